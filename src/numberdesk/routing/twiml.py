"""TwiML answers (Telnyx TeXML reads the same verbs), built with Twilio's own library.

An answer depends only on the destination, so each is built once and cached:
the voice webhook, a hot path, only looks it up.
"""

from __future__ import annotations

from functools import lru_cache

from twilio.twiml.voice_response import Connect, Dial, VoiceResponse

NOT_IN_SERVICE_MESSAGE = "The number you have called is not in service. Goodbye."


@lru_cache(maxsize=1)
def not_in_service() -> str:
    """``<Say>`` that the number is not in service, then ``<Hangup/>``."""
    r = VoiceResponse()
    r.say(NOT_IN_SERVICE_MESSAGE)
    r.hangup()
    return str(r)


@lru_cache(maxsize=16384)
def connect(kind: str, destination: str) -> str:
    """``<Dial><Sip>`` for a SIP URI, ``<Dial><Number>`` for a phone number,
    ``<Connect><Stream>`` for an AI agent's ``wss://`` stream."""
    r = VoiceResponse()
    if kind == "stream":
        c = Connect()
        c.stream(url=destination)
        r.append(c)
    else:
        d = Dial()
        if kind == "sip":
            d.sip(destination)
        else:
            d.number(destination)
        r.append(d)
    return str(r)
