"""A minimal FastCGI client (responder role) for tests that must talk to
the workers directly, without nginx: arbitrary params, partial bodies."""
import socket
import struct

BEGIN_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = 1, 3, 4, 5, 6, 7


def _record(rtype, content, req_id=1):
    return struct.pack("!BBHHBB", 1, rtype, req_id, len(content), 0, 0) + content


def _nv_len(n):
    return bytes([n]) if n < 128 else struct.pack("!I", n | 0x80000000)


def encode_params(params):
    out = b""
    for k, v in params.items():
        k = k.encode() if isinstance(k, str) else k
        v = v.encode() if isinstance(v, str) else v
        out += _nv_len(len(k)) + _nv_len(len(v)) + k + v
    return out


class Conn:
    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)

    def begin(self, params, body_start=b""):
        """Send BEGIN_REQUEST, all params, and the first part of stdin."""
        self.sock.sendall(_record(BEGIN_REQUEST, struct.pack("!HB5x", 1, 0)))
        p = encode_params(params)
        for i in range(0, len(p), 65535):
            self.sock.sendall(_record(PARAMS, p[i:i + 65535]))
        self.sock.sendall(_record(PARAMS, b""))
        if body_start:
            self.send_body(body_start)

    def send_body(self, data):
        for i in range(0, len(data), 65535):
            self.sock.sendall(_record(STDIN, data[i:i + 65535]))

    def end_body(self):
        self.sock.sendall(_record(STDIN, b""))

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise EOFError("connection closed")
            buf += chunk
        return buf

    def response(self):
        """Read until END_REQUEST; return (status, headers dict, body)."""
        out = b""
        while True:
            _, rtype, _, clen, plen, _ = struct.unpack("!BBHHBB", self._recv_exact(8))
            content = self._recv_exact(clen)
            self._recv_exact(plen)
            if rtype == STDOUT:
                out += content
            elif rtype == END_REQUEST:
                break
        head, _, body = out.partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode().split("\r\n"):
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        status = int(headers.get("status", "200").split()[0])
        return status, headers, body

    def close(self):
        self.sock.close()


def request(path, params, body=b""):
    """One complete request over a fresh connection."""
    c = Conn(path)
    try:
        p = dict(params)
        if body:
            p.setdefault("CONTENT_LENGTH", str(len(body)))
        c.begin(p, body)
        c.end_body()
        return c.response()
    finally:
        c.close()
