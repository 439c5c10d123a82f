"""Forms of the alert-network pages. Contacts are offered by pseudonym only (Contact.__str__)."""

from datetime import date
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kiungo.alertnet.assets import normalise_imei
from kiungo.alertnet.coverage import base_contacts, base_localities
from kiungo.alertnet.models import HotlineDistribution, RadioStation
from kiungo.forces.models import Base
from kiungo.messaging.models import Channel

DATE = forms.DateInput(attrs={"type": "date"})


class ContactChoice(forms.ModelChoiceField):
    def label_from_instance(self, contact):
        return contact.code  # the pseudonym, never the name


class LocalityChoice(forms.ModelChoiceField):
    def label_from_instance(self, area):
        return f"{area.name} ({area.pcode})"


def _not_future(value: date, base: Base) -> date:
    if value > timezone.localdate(timezone=_zone(base)):
        raise ValidationError(_("The date is in the future."))
    return value


def _zone(base: Base):
    from zoneinfo import ZoneInfo

    return ZoneInfo(base.mission.time_zone)


class BaseBoundForm(forms.Form):
    def __init__(self, *args, base: Base, **kwargs):
        super().__init__(*args, **kwargs)
        self.base = base
        if "locality" in self.fields:
            self.fields["locality"].queryset = base_localities(base)
        if "contact" in self.fields:
            self.fields["contact"].queryset = (
                base_contacts(base).filter(active=True).order_by("code")
            )


class RadioStationForm(BaseBoundForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    call_sign = forms.CharField(label=_("Call sign"), max_length=30, required=False)
    frequency = forms.CharField(
        label=_("Frequency"), max_length=30, help_text=_("e.g. 98.5 FM or 6.215 MHz (HF)")
    )
    schedule = forms.CharField(
        label=_("Broadcast schedule"),
        max_length=200,
        required=False,
        help_text=_("e.g. daily 6:00-22:00"),
    )
    locality = LocalityChoice(queryset=None, label=_("Locality"))
    contact = ContactChoice(
        queryset=None, required=False, label=_("Key contact at the station (pseudonym)")
    )
    contact_person = forms.CharField(
        label=_("Contact person (role, not a name)"),
        max_length=120,
        required=False,
        help_text=_("e.g. station manager"),
    )

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if RadioStation.objects.filter(base=self.base, name__iexact=name).exists():
            raise ValidationError(_("This base already has a radio station of that name."))
        return name

    def save(self) -> RadioStation:
        station = RadioStation(base=self.base, **self.cleaned_data)
        station.full_clean()
        station.save()
        return station


class HotlineDistributionForm(BaseBoundForm):
    channel = forms.ModelChoiceField(queryset=None, label=_("Hotline number"))
    locality = LocalityChoice(queryset=None, label=_("Where"))
    distributed_on = forms.DateField(label=_("When"), widget=DATE)
    cards = forms.IntegerField(label=_("Cards handed out"), min_value=1, max_value=100000)
    note = forms.CharField(
        label=_("Note"),
        max_length=200,
        required=False,
        help_text=_("e.g. market day, meeting of the protection committee"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        channels = Channel.objects.filter(mission_id=self.base.mission_id, active=True).exclude(
            phone_number=""
        )
        self.fields["channel"].queryset = channels.order_by("name")
        self.fields["channel"].label_from_instance = lambda c: f"{c.phone_number} ({c.name})"

    def clean_distributed_on(self):
        return _not_future(self.cleaned_data["distributed_on"], self.base)

    def save(self, by) -> HotlineDistribution:
        distribution = HotlineDistribution(
            base=self.base,
            distributed_by=by,
            number=self.cleaned_data["channel"].phone_number,
            **self.cleaned_data,
        )
        distribution.full_clean()
        distribution.save()
        return distribution


class IssuePhoneForm(BaseBoundForm):
    contact = ContactChoice(queryset=None, label=_("Issued to (pseudonym)"))
    model = forms.CharField(label=_("Model"), max_length=80)
    imei = forms.CharField(
        label=_("IMEI"),
        max_length=40,
        help_text=_("15 digits; dial *#06# on the phone. Stored encrypted, shown as …1234."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    issued_on = forms.DateField(label=_("Issued on"), widget=DATE)

    def clean_imei(self):
        return normalise_imei(self.cleaned_data["imei"])

    def clean_issued_on(self):
        return _not_future(self.cleaned_data["issued_on"], self.base)


class MissingPhoneForm(forms.Form):
    stolen = forms.TypedChoiceField(
        label=_("What happened"),
        choices=[("0", _("Lost")), ("1", _("Stolen"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    on = forms.DateField(label=_("On"), widget=DATE)
    circumstances = forms.CharField(
        label=_("Circumstances"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Where, how, who may have the phone now. Shown to the CLA managers only."),
    )


class TopUpForm(BaseBoundForm):
    contact = ContactChoice(queryset=None, label=_("Contact (pseudonym)"))
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=12, decimal_places=2, min_value=Decimal("0.01")
    )
    currency = forms.RegexField(
        label=_("Currency"),
        regex=r"^[A-Za-z]{3}$",
        max_length=3,
        error_messages={"invalid": _("Give the ISO 4217 code of the currency, e.g. USD or CDF.")},
    )
    operator = forms.CharField(label=_("Operator"), max_length=40, help_text=_("e.g. Vodacom"))
    on = forms.DateField(label=_("Date"), widget=DATE)

    def clean_on(self):
        return _not_future(self.cleaned_data["on"], self.base)


class BudgetForm(forms.Form):
    month = forms.DateField(
        label=_("Month"),
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )
    amount = forms.DecimalField(
        label=_("Budget"), max_digits=12, decimal_places=2, min_value=Decimal("0")
    )
    currency = forms.RegexField(
        label=_("Currency"),
        regex=r"^[A-Za-z]{3}$",
        max_length=3,
        error_messages={"invalid": _("Give the ISO 4217 code of the currency, e.g. USD or CDF.")},
    )


class MonthForm(forms.Form):
    month = forms.DateField(
        label=_("Month"),
        input_formats=["%Y-%m"],
        required=False,
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )
