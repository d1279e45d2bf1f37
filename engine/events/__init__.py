"""Events and webhooks: the outbox written with each change (``outbox.py``), its tables
(``tables.py``), the store of webhooks and their deliveries (``store.py``), the delivery
worker (``delivery.py``) and the signature of a delivery (``signing.py``)."""
