"""`POST /bench/bare`: parse a 5-field form and insert one row (only when KIUNGO_BENCH=1).

The baseline of `bench/intake.py`: the same server, middleware and database as the gateway
webhooks, and nothing else, so that full/bare says what the intake pipeline itself costs.
"""

from django.http import HttpResponse, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt

from kiungo.bench.models import BareRow

FIELDS = ("from", "to", "text", "id", "date")


@csrf_exempt
def bare(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = request.POST
    values = [form.get(name, "") for name in FIELDS]
    if not all(values):
        return HttpResponse("missing field", status=400, content_type="text/plain")
    sender, recipient, text, message_id, sent_at = values
    BareRow.objects.create(
        sender=sender[:32],
        recipient=recipient[:32],
        text=text[:200],
        message_id=message_id[:64],
        sent_at=sent_at[:40],
    )
    return HttpResponse("OK", content_type="text/plain")
