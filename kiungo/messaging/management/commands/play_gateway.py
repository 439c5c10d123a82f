"""`manage.py play_gateway`: send one inbound SMS to Kiungo exactly as a gateway would.

It builds the provider's own request (Twilio's form, Africa's Talking's form, a Standard
Webhooks-signed form for the external gateway, SMSSync's form with its secret, the console's
plain form), signs it with the transport's own helpers and the channel's secret from the
database, POSTs it, prints the answer, and exits non-zero unless the answer is 2xx.

    manage.py play_gateway --kind external --text "ALERTE Beni attaque hommes armés"
    manage.py play_gateway --kind twilio --id SM0123… (the same --id again: a redelivery)

`build_request()` is also what bench/intake.py uses to pre-build its signed requests.
"""

import ipaddress
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from django.core.management.base import BaseCommand, CommandError

from kiungo.demo import channels as demo_channels
from kiungo.messaging.gateways.external.transport import signed_headers
from kiungo.messaging.gateways.twilio.transport import sign_twilio

KINDS = ("twilio", "africastalking", "external", "smssync", "console")
FORM = "application/x-www-form-urlencoded"
DEFAULT_TEXT = "ALERTE Beni attaque hommes armés"
TIMEOUT = 30.0  # seconds


def new_message_id(kind: str) -> str:
    """A fresh id in the provider's own style."""
    if kind == "twilio":
        return "SM" + uuid.uuid4().hex
    if kind == "console":
        return "console-" + uuid.uuid4().hex
    return str(uuid.uuid4())  # Africa's Talking, SMSSync and RapidPro-style gateways: UUIDs


def build_request(
    kind: str,
    url: str,
    secrets: dict,
    *,
    sender: str,
    text: str,
    message_id: str,
    to: str = "",
    now: float | None = None,
) -> tuple[dict[str, str], bytes]:
    """(headers, body) of the request the provider of `kind` makes for one inbound SMS.

    `url` is the full receive URL the request goes to (Twilio signs it); `secrets` is the
    channel's config. Header names are as sent on the wire.
    """
    now = time.time() if now is None else now
    headers = {"Content-Type": FORM}
    if kind == "twilio":
        account_sid = str(secrets.get("account_sid", ""))
        fields = {
            "ToCountry": "CD",
            "ToState": "",
            "SmsMessageSid": message_id,
            "NumMedia": "0",
            "ToCity": "",
            "FromZip": "",
            "SmsSid": message_id,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": text,
            "FromCountry": "CD",
            "To": to,
            "ToZip": "",
            "NumSegments": "1",
            "MessageSid": message_id,
            "AccountSid": account_sid,
            "From": sender,
            "ApiVersion": "2010-04-01",
        }
        headers["X-Twilio-Signature"] = sign_twilio(url, fields, str(secrets.get("auth_token", "")))
        headers["I-Twilio-Idempotency-Token"] = str(uuid.uuid5(uuid.NAMESPACE_URL, message_id))
        headers["User-Agent"] = "TwilioProxy/1.1"
        return headers, urlencode(fields).encode()
    if kind == "africastalking":
        fields = {
            "linkId": str(uuid.uuid5(uuid.NAMESPACE_URL, "link:" + message_id)),
            "text": text,
            "to": to,
            "id": message_id,
            "date": datetime.fromtimestamp(now, tz=UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "from": sender,
            "networkCode": "63001",  # Vodacom Congo
        }
        return headers, urlencode(fields).encode()
    if kind == "external":
        fields = {
            "id": message_id,
            "from": sender,
            "text": text,
            "date": datetime.fromtimestamp(now, tz=UTC).isoformat(timespec="seconds"),
        }
        body = urlencode(fields).encode()
        # A redelivery of one message keeps its webhook-id, as Standard Webhooks requires.
        headers.update(
            signed_headers(str(secrets.get("secret", "")), f"msg_{message_id}", body, int(now))
        )
        return headers, body
    if kind == "smssync":
        fields = {
            "from": sender,
            "message": text,
            "message_id": message_id,
            "sent_to": to,
            "secret": str(secrets.get("secret", "")),
            "device_id": "kiungo-demo-relay-1",
            "sent_timestamp": str(int(now * 1000)),
        }
        return headers, urlencode(fields).encode()
    if kind == "console":
        return headers, urlencode({"from": sender, "text": text, "id": message_id}).encode()
    raise ValueError(f"unknown gateway kind {kind!r}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A gateway does not follow redirects with its POST: show the 3xx as it is."""

    def redirect_request(self, *args, **kwargs):
        return None


# No proxies from the environment (the request carries a secret), no redirects.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Command(BaseCommand):
    help = (
        "Send one inbound SMS to Kiungo's receive URL as the gateway of --kind would, signed "
        "with the channel's secret. Exits non-zero unless Kiungo answers 2xx."
    )

    def add_arguments(self, parser):
        parser.add_argument("--kind", choices=KINDS, default="twilio")
        parser.add_argument(
            "--from",
            dest="sender",
            default=demo_channels.DEMO_CONTACTS[0].phone,
            help="sender's number (default: demo key contact "
            f"{demo_channels.DEMO_CONTACTS[0].code}, in Beni)",
        )
        parser.add_argument("--text", default=DEFAULT_TEXT)
        parser.add_argument(
            "--id",
            dest="message_id",
            default="",
            help="gateway message id (default: a new one; repeat one to play a redelivery)",
        )
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="Kiungo's base URL")
        parser.add_argument(
            "--channel", default="", help="channel UUID (default: the demo channel of --kind)"
        )
        parser.add_argument(
            "--allow-remote",
            action="store_true",
            help="allow a --url that is not on this machine (the request carries a secret)",
        )

    def handle(self, *args, kind, sender, text, message_id, url, channel, allow_remote, **opts):
        from kiungo.messaging.models import Channel

        if urlsplit(url).scheme not in ("http", "https"):
            raise CommandError("--url must start with http:// or https://")
        if not allow_remote and not is_loopback(url):
            raise CommandError(
                f"{url} is not this machine; add --allow-remote to send a signed request there."
            )
        wanted = channel or str(demo_channels.channel_uuid(kind))
        try:
            found = Channel.objects.get(uuid=uuid.UUID(wanted))
        except (ValueError, Channel.DoesNotExist):
            hint = "" if channel else " (run manage.py demo to create the demo channels)"
            raise CommandError(f"No channel {wanted}{hint}.") from None
        if found.kind != kind:
            raise CommandError(f"Channel {wanted} is a {found.kind} channel, not {kind}.")
        path = f"/sms/{kind}/{found.uuid}/receive"
        target = url.rstrip("/") + path
        # Behind a proxy, the channel's public_url is what the provider signs (see twilio).
        public = str(found.config.get("public_url", "")).rstrip("/")
        message_id = message_id or new_message_id(kind)
        headers, body = build_request(
            kind,
            public + path if public else target,
            found.config,
            sender=sender,
            text=text,
            message_id=message_id,
            to=found.phone_number,
        )
        self.stdout.write(f"POST {target}  ({kind}, message id {message_id})")
        # S310: the scheme was checked above (http or https only).
        request = urllib.request.Request(target, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with OPENER.open(request, timeout=TIMEOUT) as response:
                status, answer = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, answer = error.code, error.read()
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise CommandError(f"Cannot reach {url}: {reason}") from None
        self.stdout.write(f"HTTP {status}")
        self.stdout.write(answer.decode(errors="replace"))
        if not 200 <= status < 300:
            raise CommandError(f"Kiungo answered HTTP {status}")
