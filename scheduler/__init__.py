"""The timeline and the broadcast engine. Never imports `telegram`: sends go through a Sender."""
