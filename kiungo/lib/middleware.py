from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone, translation


class LanguageSwitchMiddleware:
    """`?lang=fr` on any page switches the interface language and remembers it in a cookie.

    Field staff share links by SMS and WhatsApp; a link that carries its language is simpler
    than a form post on a slow connection.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.GET.get("lang")
        if chosen not in self.supported:
            return self.get_response(request)
        translation.activate(chosen)
        request.LANGUAGE_CODE = chosen
        response = self.get_response(request)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            chosen,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
        return response


class MissionTimeZoneMiddleware:
    """Show times in the time zone of the user's mission (storage stays in UTC)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            zone = user.display_time_zone()
        if zone:
            timezone.activate(ZoneInfo(zone))
        else:
            timezone.deactivate()
        return self.get_response(request)
