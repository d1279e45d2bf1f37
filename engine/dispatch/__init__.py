"""Dispatch: a committed plan's van routes, the events of their stops, and live ETAs."""
