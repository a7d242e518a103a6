from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from refuge.core import roles
from refuge.core.access import principal, role_required
from refuge.core.once import once
from refuge.core.services import ServiceError

from . import hours, selectors, services
from .forms import (
    DirectoryFilterForm,
    FacilityForm,
    HoursForm,
    HoursFormSet,
    OrganisationProfileForm,
    PhoneForm,
    RulesForm,
    hours_initial,
)
from .hours_display import stored_lines
from .models import Facility, HouseRules, OrganisationProfile, Phone
from .regions import country_name, region_codes, selection_country
from .rules_display import rules_summary
from .services import phone_display


@login_required
@role_required(roles.can_view_directory)
def facility_list(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    form = DirectoryFilterForm(request.GET or None)
    qs = selectors.facilities_for_directory()
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            qs = qs.filter(
                Q(name__icontains=data["q"]) | Q(organisation__name__icontains=data["q"])
            )
        codes = region_codes(data["region"])
        if codes is not None:
            in_country = Q(region__isnull=True, country=selection_country(data["region"]) or "--")
            qs = qs.filter(Q(region_id__in=codes) | in_country)
        if data["kind"]:
            qs = qs.filter(kind=data["kind"])
        if data["service"]:
            qs = qs.filter(services__kind=data["service"])
    page = Paginator(qs.distinct(), 50).get_page(request.GET.get("page"))
    rows = [{"facility": f, "where": _where(p, f)} for f in page]
    keep = request.GET.copy()
    keep.pop("page", None)
    return render(
        request,
        "directory/list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "querystring": keep.urlencode(),
            "managed": selectors.facilities_managed_by(p).order_by("name"),
            "can_manage": roles.can_manage_facility(p.role),
        },
    )


def _where(p, f: Facility) -> str:
    """Region (or country), and the town when the viewer may see it and it says more."""
    if f.region is not None:
        place = f.region.name
    elif f.country:
        place = _("%(country)s, region not known") % {"country": country_name(f.country)}
    else:
        place = _("region not known")
    locality = f.locality if selectors.can_see_locality(p, f) else ""
    return f"{place}, {locality}" if locality and locality != place else place


@login_required
@role_required(roles.can_view_directory)
def facility_detail(request: HttpRequest, facility_id) -> HttpResponse:
    p = principal(request)
    facility = selectors.facility_for_view(p, facility_id)
    address = selectors.address_for_display(p, facility, what="profile")
    phones = selectors.phones_for(p, list(facility.phones.all()))
    rules = HouseRules.objects.filter(facility=facility).first()
    profile = getattr(facility.organisation, "directory_profile", None)
    return render(
        request,
        "directory/detail.html",
        {
            "facility": facility,
            "country": country_name(facility.country) if facility.country else "",
            "address": address,
            "phones": [(ph, phone_display(ph.number)) for ph in phones],
            "rules": rules_summary(rules) if rules else [],
            "hours": stored_lines(facility.opening_hours),
            "profile": profile,
            "own": selectors.is_own_staff(p, facility) and roles.can_manage_facility(p.role),
        },
    )


def _facility_values(form: FacilityForm) -> tuple[dict, list[str]]:
    data = dict(form.cleaned_data)
    services_ = data.pop("services", [])
    return data, services_


@login_required
@role_required(roles.can_manage_facility)
@once
def facility_new(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    form = FacilityForm(request.POST or None, instance=Facility(organisation=p.organisation))
    if request.method == "POST" and form.is_valid():
        values, offered = _facility_values(form)
        try:
            facility = services.facility_create(
                by=p,
                organisation=p.organisation,
                services=offered,
                rules={"min_age": 18},
                **values,
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Facility created. Now set its house rules."))
            return redirect("directory:rules_edit", facility_id=facility.pk)
    return render(request, "directory/facility_form.html", {"form": form, "facility": None})


@login_required
@role_required(roles.can_manage_facility)
def facility_edit(request: HttpRequest, facility_id) -> HttpResponse:
    p = principal(request)
    facility = selectors.facility_for_manager(p, facility_id)
    form = FacilityForm(request.POST or None, instance=facility)
    if request.method == "POST" and form.is_valid():
        values, offered = _facility_values(form)
        try:
            original = selectors.facility_for_manager(p, facility_id)
            services.facility_update(by=p, facility=original, **values)
            services.facility_services_set(by=p, facility=original, services=offered)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Profile saved."))
            return redirect("directory:detail", facility_id=facility.pk)
    phones = [(ph, phone_display(ph.number)) for ph in facility.phones.all()]
    return render(
        request,
        "directory/facility_form.html",
        {"form": form, "facility": facility, "phones": phones, "phone_form": PhoneForm()},
    )


@login_required
@role_required(roles.can_manage_facility)
def rules_edit(request: HttpRequest, facility_id) -> HttpResponse:
    p = principal(request)
    facility = selectors.facility_for_manager(p, facility_id)
    rules = HouseRules.objects.filter(facility=facility).first() or HouseRules(facility=facility)
    form = RulesForm(request.POST or None, instance=rules)
    if request.method == "POST" and form.is_valid():
        try:
            services.house_rules_update(by=p, facility=facility, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("House rules saved."))
            return redirect("directory:detail", facility_id=facility.pk)
    return render(request, "directory/rules_form.html", {"form": form, "facility": facility})


@login_required
@role_required(roles.can_manage_facility)
def hours_edit(request: HttpRequest, facility_id) -> HttpResponse:
    p = principal(request)
    facility = selectors.facility_for_manager(p, facility_id)
    always, rows = hours_initial(facility.opening_hours)
    data = request.POST if request.method == "POST" else None
    form = HoursForm(data, initial={"always": always})
    formset = HoursFormSet(data, initial=rows, prefix="hours")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        windows = list(hours.ALWAYS) if form.cleaned_data["always"] else formset.windows()
        try:
            services.facility_hours_set(by=p, facility=facility, windows=windows)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Opening hours saved."))
            return redirect("directory:detail", facility_id=facility.pk)
    return render(
        request,
        "directory/hours_form.html",
        {"form": form, "formset": formset, "facility": facility},
    )


@login_required
@role_required(roles.can_manage_facility)
@require_POST
def phone_add(request: HttpRequest, facility_id) -> HttpResponse:
    p = principal(request)
    facility = selectors.facility_for_manager(p, facility_id)
    form = PhoneForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.phone_add(
                by=p,
                organisation=facility.organisation,
                facility=facility,
                number=data["number"],
                kind=data["kind"],
                description=data["description"],
                visibility=data["visibility"],
                default_region=data["country"],
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Phone number added."))
    else:
        messages.error(request, _("Give a phone number."))
    return redirect("directory:facility_edit", facility_id=facility.pk)


@login_required
@role_required(roles.can_manage_facility)
@require_POST
def phone_remove(request: HttpRequest, facility_id, phone_id) -> HttpResponse:
    p = principal(request)
    facility = selectors.facility_for_manager(p, facility_id)
    phone = Phone.objects.filter(pk=phone_id, facility=facility).first()
    if phone is None:
        raise Http404
    services.phone_remove(by=p, phone=phone)
    messages.success(request, _("Phone number removed."))
    return redirect("directory:facility_edit", facility_id=facility.pk)


@login_required
@role_required(roles.can_manage_facility)
def organisation_edit(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    profile = OrganisationProfile.objects.filter(
        organisation=p.organisation
    ).first() or OrganisationProfile(organisation=p.organisation)
    form = OrganisationProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        try:
            services.organisation_profile_update(
                by=p, organisation=p.organisation, **form.cleaned_data
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Organisation profile saved."))
            return redirect("directory:list")
    return render(
        request, "directory/organisation_form.html", {"form": form, "organisation": p.organisation}
    )
