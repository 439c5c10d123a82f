"""The one seam through which Kiungo talks HTTP to SMS gateways.

Transports call `http.post(...)` (the module attribute, not an imported name), so tests replace
this one function and never reach the network.
"""

import requests

USER_AGENT = "Kiungo-SMS/1.0"


def post(
    url: str,
    *,
    data=None,
    json=None,
    headers: dict | None = None,
    auth: tuple[str, str] | None = None,
    timeout: float = 10.0,
) -> requests.Response:
    """POST and return the response, whatever its status; connection errors raise.

    Redirects are not followed: a gateway API that redirects is misconfigured, and following
    would resend credentials (such as Africa's Talking's `apiKey` header) to another host.
    """
    return requests.post(
        url,
        data=data,
        json=json,
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        auth=auth,
        timeout=timeout,
        allow_redirects=False,
    )
