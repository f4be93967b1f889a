"""The process boundary: typed requests and events, their encoding, the client, the child."""
