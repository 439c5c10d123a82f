from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from kiungo.people.access import Capability, access
from kiungo.people.models import CLAProfile
from kiungo.people.selectors import responsibilities


@login_required
def home(request):
    return render(request, "people/home.html", {"r": responsibilities(request.user)})


@login_required
def cla_detail(request, pk: int):
    profile = access(request.user, CLAProfile, Capability.VIEW_PEOPLE, pk=pk)
    deployments = profile.deployments.select_related("base").order_by("-starts_on")
    return render(
        request, "people/cla_detail.html", {"profile": profile, "deployments": deployments}
    )
