"""Order tracking: each order's public token, and what its tracking shows (the shop's view
and the customer's page), read from the order book and the dispatched routes."""
