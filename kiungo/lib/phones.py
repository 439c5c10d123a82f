"""Phone numbers: everything stored and compared in E.164."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def to_e164(raw: str, default_region: str | None = None) -> str:
    """Normalise a number as typed or as a gateway sent it; raise ValidationError if invalid."""
    text = (raw or "").strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _("“%(value)s” is not a phone number."), code="invalid_phone", params={"value": raw}
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("“%(value)s” is not a valid phone number for its country."),
            code="invalid_phone",
            params={"value": raw},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_e164(value: str) -> None:
    """Model-field validator: the stored value must already be canonical E.164."""
    if to_e164(value) != value:
        raise ValidationError(
            _("Store phone numbers in E.164 form, such as +243991234567."), code="not_e164"
        )
