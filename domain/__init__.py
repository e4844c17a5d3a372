"""The domain: plain data and services, never the Telegram library."""
