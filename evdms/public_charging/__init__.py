"""Public charging, as the product knows it: drivers' charging tokens (an app token for
every driver of a connection that pays for public charging, RFID cards an admin issues),
their validity, and the public sessions drivers mark business or personal.

The roaming protocol (OCPI, ``evdms.ocpi``) offers the tokens to partners and brings the
sessions in; this app knows nothing of it (``signals.token_changed`` is how a token's
change reaches the partners).
"""
