"""Validators for the standards Kiungo speaks: ISO 3166, IANA time zones, language codes."""

import zoneinfo

import pycountry
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def validate_country(value: str) -> None:
    if len(value) != 2 or pycountry.countries.get(alpha_2=value) is None:
        raise ValidationError(
            _("“%(value)s” is not an ISO 3166 two-letter country code."),
            code="invalid_country",
            params={"value": value},
        )


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("“%(value)s” is not a known time zone (for example Africa/Kinshasa)."),
            code="invalid_time_zone",
            params={"value": value},
        )


def validate_language_list(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError(_("Give at least one language code."), code="invalid_languages")
    for code in value:
        if not isinstance(code, str) or pycountry.languages.get(alpha_2=code) is None:
            raise ValidationError(
                _("“%(value)s” is not an ISO 639-1 language code."),
                code="invalid_language",
                params={"value": code},
            )


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code) if code else None
    return country.name if country else code
