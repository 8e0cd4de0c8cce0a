#!/usr/bin/python3
"""RFC 1961 (GSS-API method 0x01) SOCKS5 client for tests/gssapi.bats.

    gssclient.py -p HOST:PORT [options]

Builds every RFC 1961 frame itself (ver 1, mtyp, 2-byte length, token) on
python3-gssapi (Debian's, hence /usr/bin/python3), with the credentials
of KRB5CCNAME.  Prints KEY=VALUE lines:

  method=HEX         the server's method reply
  auth=ok|failure|eof|error:TEXT   how context establishment ended
  mutual=1           the server's last token completed the context
  level=N            the protection level the server answered
  prot=failure|eof   how protection negotiation ended otherwise
  reply=N            the SOCKS5 reply code to a CONNECT to -P
  echo=ok|bad        with --echo N: N random bytes sent and read back
  raw=HEX|eof        with --raw: what came back to the raw bytes
  elapsed=S          seconds from the method reply to the end
Exit status 0 unless the client itself failed.
"""
import argparse
import binascii
import os
import socket
import struct
import sys
import time

# gssapi is imported only by the modes that make tokens: it is the slow
# part of starting this client.
gssapi = None


def out(k, v):
    print("%s=%s" % (k, v), flush=True)


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            return None
        b += c
    return b


def frame(mtyp, token):
    return struct.pack("!BBH", 1, mtyp, len(token)) + token


def read_frame(s):
    """(mtyp, token), ("failure", None) or ("eof", None)."""
    h = recv_exact(s, 2)
    if h is None:
        return "eof", None
    ver, mtyp = h[0], h[1]
    if ver != 1:
        return "badver", None
    if mtyp == 0xff:
        return "failure", None
    ln = recv_exact(s, 2)
    if ln is None:
        return "eof", None
    tok = recv_exact(s, struct.unpack("!H", ln)[0])
    if tok is None:
        return "eof", None
    return mtyp, tok


def main():
    global gssapi
    ap = argparse.ArgumentParser()
    ap.add_argument("-p", "--proxy", required=True)
    ap.add_argument("-P", "--dest-port", type=int, default=0)
    ap.add_argument("--service", default="rcmd@127.0.0.1")
    ap.add_argument("--methods", default="01")
    ap.add_argument("--level", type=int, default=0)
    ap.add_argument("--no-mutual", action="store_true")
    ap.add_argument("--echo", type=int, default=0)
    ap.add_argument("--raw", help="hex bytes sent after the method reply")
    ap.add_argument("--raw-tail", type=int, default=0,
                    help="then this many 'A' bytes")
    ap.add_argument("--save-token", help="write the first token here")
    ap.add_argument("--token-file", help="send this first token instead")
    ap.add_argument("--after-expiry", type=float, default=-1,
                    help="make the first token, wait until this many "
                    "seconds after the ticket's end, then connect")
    ap.add_argument("--stall", action="store_true",
                    help="send nothing after the method reply")
    ap.add_argument("--timeout", type=float, default=20)
    a = ap.parse_args()

    ctx = None
    first = None
    if a.token_file:
        first = open(a.token_file, "rb").read()
    elif not a.raw and not a.stall:
        import gssapi as g
        gssapi = g
        flags = [gssapi.RequirementFlag.integrity]
        if not a.no_mutual:
            flags.append(gssapi.RequirementFlag.mutual_authentication)
        try:
            name = gssapi.Name(a.service,
                               gssapi.NameType.hostbased_service)
            ctx = gssapi.SecurityContext(name=name, usage="initiate",
                                         flags=flags)
            first = ctx.step()
        except gssapi.exceptions.GSSError as e:
            out("auth", "error:" + str(e).replace("\n", " ")[:200])
            return 0
        if a.save_token:
            open(a.save_token, "wb").write(first)
    if a.after_expiry >= 0 and ctx is not None:
        # No service ticket outlives the ticket-granting ticket.
        left = gssapi.Credentials(usage="initiate").lifetime
        time.sleep(max(0, left) + a.after_expiry)

    host, port = a.proxy.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=a.timeout)
    methods = binascii.unhexlify(a.methods)
    s.sendall(bytes([5, len(methods)]) + methods)
    r = recv_exact(s, 2)
    if r is None:
        out("method", "eof")
        return 0
    out("method", "%02x" % r[1])
    t0 = time.monotonic()
    if r[1] != 1:
        return 0
    try:
        if a.stall or a.raw:
            if a.raw:
                s.sendall(binascii.unhexlify(a.raw) + b"A" * a.raw_tail)
            b = b""
            while True:
                c = s.recv(4096)
                if not c:
                    break
                b += c
            out("raw", binascii.hexlify(b).decode() if b else "eof")
            return 0

        tok = first
        while True:
            s.sendall(frame(1, tok))
            if ctx is not None and ctx.complete:
                break
            mtyp, rtok = read_frame(s)
            if mtyp != 1:
                out("auth", mtyp)
                return 0
            if ctx is None:
                out("auth", "unexpected-token")
                return 0
            tok = ctx.step(rtok)
            if ctx.complete:
                out("mutual", 1)
                break
        out("auth", "ok")
        # Section 4: the level, wrapped with integrity only.
        s.sendall(frame(2, ctx.wrap(bytes([a.level]), False).message))
        mtyp, rtok = read_frame(s)
        if mtyp != 2:
            out("prot", mtyp)
            return 0
        lvl = ctx.unwrap(rtok).message
        out("level", lvl[0])
        if not a.dest_port:
            return 0
        s.sendall(b"\x05\x01\x00\x01\x7f\x00\x00\x01" +
                  struct.pack("!H", a.dest_port))
        rep = recv_exact(s, 10)
        if rep is None:
            out("reply", "eof")
            return 0
        out("reply", rep[1])
        if rep[1] == 0 and a.echo:
            data = os.urandom(a.echo)
            s.sendall(data)
            back = recv_exact(s, len(data))
            out("echo", "ok" if back == data else "bad")
    except (socket.timeout, ConnectionError) as e:
        out("error", type(e).__name__)
    finally:
        out("elapsed", "%.1f" % (time.monotonic() - t0))
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
