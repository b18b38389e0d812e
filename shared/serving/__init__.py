"""Listeners that bound what an unauthenticated client can hold: header time, idle time, count."""
