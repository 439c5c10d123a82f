"""Forms of the contact, outreach and broadcast pages. Numbers are parsed here (E.164); the
duplicate check and the saving are in contacts.py, in one transaction."""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kiungo.geography.models import Area
from kiungo.lib.phones import to_e164
from kiungo.network import contacts as contact_rules
from kiungo.network.models import (
    BroadcastTemplate,
    ConsentRecord,
    Contact,
    OutreachActivity,
)
from kiungo.people.access import Capability, visible_areas, visible_bases, visible_missions
from kiungo.people.models import CLAProfile

DAY_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def language_choices(user, capability) -> list[tuple[str, str]]:
    codes = []
    for mission in visible_missions(user, capability).order_by("code"):
        codes += [code for code in mission.languages if code not in codes]
    return [(code, code) for code in codes]


def cla_choices(user, capability):
    """CLAs of the bases in scope, and the user's own profile."""
    bases = visible_bases(user, capability).values("pk")
    return CLAProfile.objects.filter(Q(base__in=bases) | Q(user=user)).distinct()


class ContactForm(forms.ModelForm):
    """Create or edit a contact. On edit, the name and numbers are never shown: left blank they
    stay as they are; typed, they replace the stored ones."""

    prefix = forms.CharField(
        label=_("pseudonym prefix"),
        max_length=14,
        help_text=_("e.g. NK-BEN: the next free number is added (NK-BEN-018)."),
    )
    contact_name = forms.CharField(label=_("name"), max_length=200, required=False)
    numbers = forms.CharField(
        label=_("phone numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"}),
        help_text=_("One per line, the main number first."),
    )
    consent_method = forms.ChoiceField(
        label=_("consent given"), choices=ConsentRecord.Method.choices
    )

    class Meta:
        model = Contact
        fields = [
            "category",
            "sex",
            "language",
            "other_languages",
            "home_locality",
            "managed_by",
            "consents_to_contact",
            "consents_to_feedback",
        ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        creating = self.instance.pk is None
        self.fields["home_locality"].required = True
        self.fields["home_locality"].queryset = (
            visible_areas(user, Capability.MANAGE_CONTACTS)
            .filter(level=Area.Level.LOCALITY)
            .order_by("name", "pcode")
        )
        self.fields["managed_by"].queryset = cla_choices(user, Capability.MANAGE_CONTACTS)
        self.fields["language"] = forms.ChoiceField(
            label=_("language"),
            choices=[("", "—"), *language_choices(user, Capability.MANAGE_CONTACTS)],
            required=False,
            help_text=_("The language the contact is written to."),
        )
        self.fields["other_languages"] = forms.MultipleChoiceField(
            label=_("also speaks"),
            choices=language_choices(user, Capability.MANAGE_CONTACTS),
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )
        if not creating:
            self.fields["home_locality"].queryset = self.fields["home_locality"].queryset.filter(
                mission_id=self.instance.mission_id
            )
            # Consent changes go through the consent form (a record each time).
            for name in ("prefix", "consent_method", "consents_to_contact", "consents_to_feedback"):
                del self.fields[name]
            self.fields["contact_name"].help_text = _("Leave blank to keep the stored name.")
            self.fields["numbers"].help_text = _(
                "Leave blank to keep the stored numbers; numbers typed here replace them all "
                "(main number first)."
            )

    def clean_prefix(self):
        prefix = self.cleaned_data["prefix"].strip().upper()
        if not contact_rules.CODE_PREFIX.match(prefix):
            raise ValidationError(
                _("Use capital letters and digits in up to three groups, e.g. NK-BEN.")
            )
        return prefix

    def clean_numbers(self):
        lines = [line.strip() for line in self.cleaned_data["numbers"].splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            return None  # keep the stored numbers (or none, for a new contact)
        locality = self.data.get(self.add_prefix("home_locality"))
        country = None
        area = (
            Area.objects.filter(pk=locality).select_related("mission").first()
            if (locality and str(locality).isdigit())
            else None
        )
        if area is not None:
            country = area.mission.country
        numbers = []
        for line in lines:
            numbers.append(to_e164(line, country))  # its ValidationError names the line typed
        return numbers

    def clean(self):
        cleaned = super().clean()
        area, numbers = cleaned.get("home_locality"), cleaned.get("numbers")
        cla = cleaned.get("managed_by")
        if (
            area is not None
            and cla is not None
            and cla.base
            and (cla.base.mission_id != area.mission_id)
        ):
            self.add_error("managed_by", _("This CLA works in another mission."))
        if area is not None and numbers:
            error = contact_rules.duplicate_error(
                area.mission, numbers, self.user, exclude=self.instance
            )
            if error is not None:
                self.add_error("numbers", error)
        return cleaned


class ConsentForm(forms.Form):
    consents_to_contact = forms.BooleanField(label=_("agrees to be contacted"), required=False)
    consents_to_feedback = forms.BooleanField(
        label=_("agrees to receive word of the response"), required=False
    )
    method = forms.ChoiceField(label=_("how"), choices=ConsentRecord.Method.choices)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("reason"),
        min_length=10,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why you need it: recorded with your name."),
    )


class EraseForm(forms.Form):
    confirm_code = forms.CharField(
        label=_("type the pseudonym to confirm"),
        max_length=20,
    )

    def __init__(self, *args, contact, **kwargs):
        super().__init__(*args, **kwargs)
        self.contact = contact

    def clean_confirm_code(self):
        code = self.cleaned_data["confirm_code"].strip().upper()
        if code != self.contact.code.upper():
            raise ValidationError(_("This is not the contact's pseudonym."))
        return code


class IdentityExportForm(ReasonForm):
    mission = forms.ModelChoiceField(queryset=None, label=_("mission"), empty_label=None)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mission"].queryset = visible_missions(user, Capability.VIEW_CONTACTS).order_by(
            "code"
        )


STATUS_CHOICES = [("", _("any status")), *Contact.Status.choices]


class ContactFilterForm(forms.Form):
    base = forms.ModelChoiceField(queryset=None, required=False, label=_("base"))
    locality = forms.ModelChoiceField(queryset=None, required=False, label=_("area"))
    category = forms.ChoiceField(
        required=False,
        label=_("category"),
        choices=[("", _("any category")), *Contact.Category.choices],
    )
    status = forms.ChoiceField(required=False, label=_("status"), choices=STATUS_CHOICES)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["base"].queryset = visible_bases(user, Capability.VIEW_CONTACTS).order_by(
            "code"
        )
        self.fields["locality"].queryset = visible_areas(user, Capability.VIEW_CONTACTS).order_by(
            "pcode"
        )

    def apply(self, contacts):
        data = self.cleaned_data
        if data.get("base"):
            pcodes = data["base"].responsibility.values_list("area__pcode", flat=True)
            condition = Q(pk__in=[])
            for pcode in pcodes:
                condition |= Q(home_locality__pcode__startswith=pcode)
            contacts = contacts.filter(condition | Q(managed_by__base=data["base"]))
        if data.get("locality"):
            contacts = contacts.filter(home_locality__pcode__startswith=data["locality"].pcode)
        if data.get("category"):
            contacts = contacts.filter(category=data["category"])
        status = data.get("status")
        if status == Contact.Status.ERASED:
            contacts = contacts.filter(erased_at__isnull=False)
        elif status == Contact.Status.INACTIVE:
            contacts = contacts.filter(erased_at__isnull=True, active=False)
        elif status == Contact.Status.ACTIVE:
            contacts = contacts.filter(erased_at__isnull=True, active=True)
        return contacts


class OutreachForm(forms.ModelForm):
    languages = forms.MultipleChoiceField(label=_("languages"), widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = OutreachActivity
        fields = ["kind", "held_on", "area", "cla", "women", "men", "messages", "languages"]
        widgets = {"held_on": DAY_INPUT, "messages": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = visible_areas(user, Capability.LOG_OUTREACH).order_by(
            "pcode"
        )
        self.fields["cla"].queryset = cla_choices(user, Capability.LOG_OUTREACH)
        self.fields["languages"].choices = language_choices(user, Capability.LOG_OUTREACH)
        profile = CLAProfile.objects.filter(user=user).first()
        if profile is not None and not self.is_bound:
            self.initial.setdefault("cla", profile.pk)

    def clean(self):
        cleaned = super().clean()
        area, cla = cleaned.get("area"), cleaned.get("cla")
        if (
            area is not None
            and cla is not None
            and cla.base
            and (cla.base.mission_id != area.mission_id)
        ):
            self.add_error("cla", _("This CLA works in another mission."))
        return cleaned


class BroadcastForm(forms.Form):
    template = forms.ModelChoiceField(queryset=None, label=_("template"))
    area = forms.ModelChoiceField(
        queryset=None, label=_("area"), help_text=_("Contacts living in it and all below it.")
    )
    languages = forms.MultipleChoiceField(label=_("languages"), widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        missions = visible_missions(user, Capability.SEND_BROADCASTS)
        self.fields["template"].queryset = BroadcastTemplate.objects.filter(
            mission__in=missions, active=True
        )
        self.fields["area"].queryset = visible_areas(user, Capability.SEND_BROADCASTS).order_by(
            "pcode"
        )
        self.fields["languages"].choices = language_choices(user, Capability.SEND_BROADCASTS)

    def clean(self):
        cleaned = super().clean()
        template, area = cleaned.get("template"), cleaned.get("area")
        if template is not None and area is not None and template.mission_id != area.mission_id:
            self.add_error("template", _("This template belongs to another mission."))
        languages = cleaned.get("languages") or []
        if template is not None and languages:
            missing = [code for code in languages if code not in template.texts]
            if missing:
                self.add_error(
                    "languages",
                    _("The template has no text in: %(languages)s.")
                    % {"languages": ", ".join(missing)},
                )
        return cleaned
