"""Checking that a port is free before starting something on it, with a message that says
which setting moves it."""

from __future__ import annotations

import socket


class PortBusy(RuntimeError):
    def __init__(self, host: str, port: int, setting: str) -> None:
        self.host, self.port, self.setting = host, port, setting
        super().__init__(
            f"port {port} on {host} is already in use; stop whatever holds it, "
            f"or choose another port with {setting}=<port> (in the environment or .env)"
        )


def ensure_free(host: str, port: int, setting: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            raise PortBusy(host, port, setting) from e


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS considers free right now (for tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]
