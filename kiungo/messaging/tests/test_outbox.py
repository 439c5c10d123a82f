"""The outbox: GSM-7 text, splitting into parts, and queueing inside the caller's transaction."""

import pytest
from django.db import transaction

from kiungo.lib.crypto import keyed_hash
from kiungo.messaging.gateways.testing import make_channel
from kiungo.messaging.models import OutboundMessage
from kiungo.messaging.outbox import is_gsm7, queue_sms, sms_length, split_sms, to_gsm7

NUMBER = "+243997000123"
FRENCH = "Kiungo : votre alerte a été reçue à Béni. Une équipe est informée. Merci."
ARABIC = "تم استلام إنذارك. شكرا لك على المعلومات، سيتم إبلاغ الفريق المسؤول في أقرب وقت."


def test_it_detects_gsm7():
    assert is_gsm7("Alerte reçue à Béni, merci") is False  # ç is not GSM-7 (only Ç is)
    assert is_gsm7("Alerte recue à Béni, merci. è é ù ì ò à Ç") is True
    assert is_gsm7("{code} [x] ~ | € ^ \\") is True
    assert is_gsm7("l’équipe") is False
    assert is_gsm7(ARABIC) is False


def test_it_counts_extension_characters_twice():
    assert sms_length("abc") == 3
    assert sms_length("€[]") == 6
    assert sms_length("سلام") == 4
    assert sms_length("ok 🙂") == 5  # beyond the BMP: two UTF-16 units


def test_it_replaces_characters_with_close_equivalents():
    text = "« L’équipe » arrive – fête, côte, cœur… “ok” — Œuvre"
    assert to_gsm7(text) == '" L\'équipe " arrive - fete, cote, coeur... "ok" - OEuvre'
    assert to_gsm7("Reçu à Béni\u00a0!") == "Recu à Béni !"  # no-break space of French typography
    assert to_gsm7("déjà vu é è à") == "déjà vu é è à"  # GSM-7 accents are kept


def test_it_keeps_text_that_needs_ucs2():
    assert to_gsm7(ARABIC) == ARABIC
    # One character without an equivalent keeps the whole text as it is (UCS-2 holds all).
    assert to_gsm7("l’alerte 警") == "l’alerte 警"


def test_it_keeps_short_french_in_one_gsm7_part():
    parts = split_sms(to_gsm7(FRENCH))
    assert len(parts) == 1
    assert is_gsm7(parts[0])
    assert "(1/" not in parts[0]


def test_it_splits_ucs2_at_70_and_67():
    seventy = "س" * 70
    assert split_sms(seventy) == [seventy]
    parts = split_sms("س" * 71)
    assert len(parts) == 2
    assert all(sms_length(part) <= 67 for part in parts)
    arabic_parts = split_sms(ARABIC)  # 82 characters: two parts, cut between words
    assert len(arabic_parts) == 2
    assert arabic_parts[0].startswith("(1/2) ") and arabic_parts[1].startswith("(2/2) ")
    assert all(sms_length(part) <= 67 for part in arabic_parts)
    words = [part.split(" ", 1)[1] for part in arabic_parts]
    assert " ".join(words) == ARABIC


def test_it_splits_400_french_characters_into_three_parts_on_word_boundaries():
    sentence = "Les forces de la mission ont été informées de votre alerte à Béni. "
    text = (sentence * 7)[:400].rsplit(" ", 1)[0]
    assert 380 < len(text) <= 400
    parts = split_sms(to_gsm7(text))
    assert len(parts) == 3
    assert [part[:6] for part in parts] == ["(1/3) ", "(2/3) ", "(3/3) "]
    assert all(sms_length(part) <= 153 for part in parts)
    assert " ".join(part[6:] for part in parts) == text  # nothing lost, words kept whole


def test_it_counts_extension_characters_when_splitting():
    parts = split_sms("€ " * 100)  # 100 euros at two units each, plus spaces
    assert len(parts) > 2
    assert all(sms_length(part) <= 153 for part in parts)


def test_it_cuts_a_word_longer_than_a_part():
    parts = split_sms("x" * 200)
    assert [len(part) for part in parts] == [153, 6 + 53]


def test_it_widens_the_counter_past_nine_parts():
    parts = split_sms("mot " * 400)
    assert len(parts) >= 10
    assert parts[0].startswith(f"(1/{len(parts)}) ")
    assert all(sms_length(part) <= 153 for part in parts)


def test_it_queues_one_message_per_part(world):
    channel = make_channel(world.mission, "console")
    with transaction.atomic():
        messages = queue_sms(channel, NUMBER, "« Reçu » " + "mot " * 60)
    assert len(messages) == 2
    stored = list(OutboundMessage.objects.order_by("pk"))
    assert [m.text[:6] for m in stored] == ["(1/2) ", "(2/2) "]
    assert stored[0].text.startswith('(1/2) " Recu " mot')
    for message in stored:
        assert message.to == NUMBER
        assert message.to_hash == keyed_hash(NUMBER)
        assert message.state == OutboundMessage.State.QUEUED
        assert message.next_attempt_at is not None


def test_it_queues_nothing_when_the_causing_transaction_rolls_back(world):
    channel = make_channel(world.mission, "console")

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        queue_sms(channel, NUMBER, "Kiungo : alerte reçue.")
        raise Boom

    assert not OutboundMessage.objects.exists()


def test_it_refuses_a_number_that_is_not_e164(world):
    channel = make_channel(world.mission, "console")
    with pytest.raises(ValueError):
        queue_sms(channel, "0997000123", "test")
