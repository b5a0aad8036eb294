#!/usr/bin/env python3
"""An example agent in Python (standard library only) that asks omegad for decisions over its frame protocol
(docs/omegad.md): an allowed call, a denied call, a rate limit, taint, and an approval granted through the socket.
Usage: client.py SOCKET [TAG]   (TAG prefixes the session ids, so several runs do not share sessions)"""

import json
import socket
import struct
import sys

DECIDE, GRANT, WAIT, PING = 0x01, 0x02, 0x04, 0x07
REPLY, ERROR = 0x80, 0xFF


class Omegad:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("the server closed the connection")
            data += chunk
        return data

    def call(self, kind, body=None):
        """Sends one frame (4-byte big-endian length, type byte, JSON body) and returns the reply's body."""
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        self.sock.sendall(struct.pack(">IB", len(payload) + 1, kind) + payload)
        length, reply_type = struct.unpack(">IB", self._read(5))
        reply = json.loads(self._read(length - 1) or b"{}")
        if reply_type == ERROR:
            raise RuntimeError(reply["error"])
        if reply_type != kind | REPLY:
            raise RuntimeError(f"unexpected reply type {reply_type:#x}")
        return reply

    def decide(self, label, request):
        d = self.call(DECIDE, request)
        print(f"{label}: {request['target']} -> {d['decision']} ({d['reason']})")
        return d


def tool(target, args, session=None):
    request = {"action": "tool", "target": target, "agent": "helper", "args": args}
    if session:
        request["session"] = {"id": session}
    return request


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: client.py SOCKET [TAG]")
    tag = sys.argv[2] if len(sys.argv) > 2 else "py"
    omegad = Omegad(sys.argv[1])
    print("ping:", json.dumps(omegad.call(PING), separators=(",", ":")))

    search = tool("docs.search", {"query": "opening hours"}, f"{tag}-1")
    omegad.decide("allowed call", search)
    omegad.decide("denied call", tool("mail.send", {"to": "someone@example.com", "body": "hello"}))
    # Three lookups a minute per session: the fourth is refused. Each one taints the session as Secret.
    for i in range(1, 5):
        omegad.decide(f"rate limit {i}", tool("crm.lookup", {"customer": f"c-{i}"}, f"{tag}-1"))
    # The same search as the first one, now in a session that has read customer records.
    omegad.decide("taint", search)

    # A refund waits for the lead; the lead grants it through the socket; the agent waits for the answer.
    d = omegad.decide("approval", tool("pay.refund", {"amount": 120}, f"{tag}-2"))
    if "pending" not in d:
        sys.exit("client.py: the refund did not wait for an approval")
    granted = omegad.call(GRANT, {"id": d["pending"], "role": "lead"})
    print("approval: grant lead ->", granted["state"])
    waited = omegad.call(WAIT, {"id": d["pending"], "timeout_ms": 1000})
    print("approval: wait ->", waited["state"])


if __name__ == "__main__":
    main()
