#!/usr/bin/env python3
"""Raw SOCKS 4/4a/5 client for the socks5d bats tests.

    socksclient.py -p PROXY [-v 5|4|4a] [-d DEST] [-P PORT] [options] [ACTION...]
    socksclient.py -p PROXY --raw HEX          send raw bytes, report the answer

PROXY is 127.0.0.1:1080 or [::1]:1080.  Everything the client learns is
printed on stdout as KEY=VALUE lines, in order:

    local=127.0.0.1:41234     the client's own address (as the proxy sees it)
    method=00                 SOCKS5 method chosen by the server (hex)
    reply=0                   SOCKS5 REP, or SOCKS4 CD (90..93)
    bnd=127.0.0.1:40000       BND.ADDR:BND.PORT of the reply
    closed=eof|reset|timeout|data:HEX   after a refusal: what came next
    ...                       what the ACTIONs print (see below)
    error=WHAT                a transport or protocol error (exit status 1)

Options:
  --methods HEX     SOCKS5 methods offered (default 00)
  --cmd N           command byte (default 1, CONNECT)
  --atyp T          ipv4|ipv6|domain|N (SOCKS5; default from DEST); a number
                    sends that ATYP with 4 address bytes
  --user NAME       SOCKS4 USERID (default "test")
  --src ADDR        connect from this local address (e.g. 127.0.0.3)
  --pipeline        send greeting, request and the leading send actions in one
                    write before reading anything
  --silence S --silence-file F
                    after the first message, require that nothing at all comes
                    back for S seconds (else exit 3 with error=answered-early),
                    then create F and go on
  --timeout S       bound on every connect/read/write (default 10)
  --raw HEX         send these bytes after connecting, then read until EOF or
                    timeout and print recv=HEX and end=eof|reset|timeout

Actions, run in order after a successful reply (0 or 90):
  send:TEXT  sendhex:HEX  sendfile:PATH  sendrand:N
  shutdown            shutdown(SHUT_WR)
  recv                read to EOF; prints recv-len, recv-sha256, recv-text
  recvline            read one line; prints line=...
  ready:PATH          write "local=ADDR" to PATH (created atomically)
  wait:PATH           wait (bounded by --go-timeout) until PATH exists
  sleep:S             sleep S seconds (to hold a session open)
  auditcheck:PATH     right now, count the records of the audit file PATH
                      with event "request" and client = our local address;
                      prints audit-request=N
  duplex:N            send N random bytes from a thread, then shutdown(SHUT_WR),
                      while reading to EOF; prints duplex=ok (what came back
                      equals what was sent, for an echo server) or
                      duplex=mismatch, and duplex-len=N
At the end: sent-len=N and sent-sha256=HEX of everything the actions sent.
"""
import argparse
import hashlib
import ipaddress
import json
import os
import select
import socket
import sys
import threading
import time


class ProtoError(Exception):
    pass


def parse_hostport(s):
    if s.startswith("["):
        host, _, port = s[1:].partition("]:")
    else:
        host, _, port = s.rpartition(":")
    return host, int(port)


def fmt_addr(host, port):
    if ":" in host:
        return "[%s]:%d" % (host, port)
    return "%s:%d" % (host, port)


def connect_proxy(proxy, timeout, src=None):
    host, port = parse_hostport(proxy)
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect((host, port))
    return s


def recv_exact(s, n, what):
    buf = b""
    while len(buf) < n:
        try:
            b = s.recv(n - len(buf))
        except socket.timeout:
            raise ProtoError("timeout in %s after %d bytes" % (what, len(buf)))
        except ConnectionResetError:
            raise ProtoError("reset in %s after %d bytes" % (what, len(buf)))
        if not b:
            raise ProtoError("eof in %s after %d bytes" % (what, len(buf)))
        buf += b
    return buf


def v5_greeting(methods):
    return bytes([5, len(methods)]) + methods


def v5_request(cmd, dest, port, atyp=None):
    if atyp is None:
        try:
            ip = ipaddress.ip_address(dest)
            atyp = "ipv4" if ip.version == 4 else "ipv6"
        except ValueError:
            atyp = "domain"
    if atyp == "ipv4":
        a = b"\x01" + socket.inet_pton(socket.AF_INET, dest)
    elif atyp == "ipv6":
        a = b"\x04" + socket.inet_pton(socket.AF_INET6, dest)
    elif atyp == "domain":
        name = dest.encode()
        a = b"\x03" + bytes([len(name)]) + name
    else:
        a = bytes([int(atyp, 0)]) + b"\x7f\x00\x00\x01"
    return bytes([5, cmd, 0]) + a + port.to_bytes(2, "big")


def v4_request(cmd, dest, port, user, socks4a):
    if socks4a:
        ip = b"\x00\x00\x00\x01"
        tail = dest.encode() + b"\x00"
    else:
        ip = socket.inet_pton(socket.AF_INET, dest)
        tail = b""
    return (bytes([4, cmd]) + port.to_bytes(2, "big") + ip + user.encode() +
            b"\x00" + tail)


def read_v5_method(s):
    r = recv_exact(s, 2, "method reply")
    if r[0] != 5:
        raise ProtoError("method reply version %d" % r[0])
    return r[1]


def read_v5_reply(s):
    """Returns (rep, bnd_host, bnd_port)."""
    h = recv_exact(s, 4, "reply")
    if h[0] != 5:
        raise ProtoError("reply version %d" % h[0])
    rep, atyp = h[1], h[3]
    if atyp == 1:
        host = socket.inet_ntop(socket.AF_INET, recv_exact(s, 4, "BND.ADDR"))
    elif atyp == 4:
        host = socket.inet_ntop(socket.AF_INET6, recv_exact(s, 16, "BND.ADDR"))
    elif atyp == 3:
        n = recv_exact(s, 1, "BND.ADDR length")[0]
        host = recv_exact(s, n, "BND.ADDR").decode("latin1")
    else:
        raise ProtoError("reply ATYP %d (REP %d)" % (atyp, rep))
    port = int.from_bytes(recv_exact(s, 2, "BND.PORT"), "big")
    return rep, host, port


def read_v4_reply(s):
    r = recv_exact(s, 8, "reply")
    if r[0] != 0:
        raise ProtoError("SOCKS4 reply VN %d" % r[0])
    port = int.from_bytes(r[2:4], "big")
    host = socket.inet_ntop(socket.AF_INET, r[4:8])
    return r[1], host, port


def what_next(s, timeout):
    """After a refusal: does the server close the connection?"""
    s.settimeout(timeout)
    try:
        b = s.recv(4096)
    except socket.timeout:
        return "timeout"
    except ConnectionResetError:
        return "reset"
    if not b:
        return "eof"
    return "data:" + b.hex()


def socks_handshake(s, version, dest, port, cmd=1, methods=b"\x00",
                    atyp=None, user="test", pipeline=False, payload=b"",
                    out=None, silence=None):
    """Negotiates a SOCKS session on the connected socket s.  With pipeline,
    the greeting, the request and payload go out in a single write before
    anything is read.  Returns (reply, bnd_host, bnd_port, method); reply is
    None when no acceptable method was chosen, method is None for SOCKS4.
    out(key, value) receives each fact as soon as it is known."""
    out = out or (lambda k, v: None)
    silence = silence or (lambda: None)
    method = None
    if version == "5":
        greet = v5_greeting(methods)
        req = v5_request(cmd, dest, port, atyp)
        s.sendall(greet + req + payload if pipeline else greet)
        silence()
        method = read_v5_method(s)
        out("method", "%02x" % method)
        if method != 0:
            return None, None, None, method
        if not pipeline:
            s.sendall(req)
        rep, host, bport = read_v5_reply(s)
    else:
        req = v4_request(cmd, dest, port, user, version == "4a")
        s.sendall(req + payload if pipeline else req)
        silence()
        rep, host, bport = read_v4_reply(s)
    out("reply", str(rep))
    out("bnd", fmt_addr(host, bport))
    return rep, host, bport, method


def unescape(t):
    return t.encode("latin1").decode("unicode_escape").encode("latin1")


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("-p", "--proxy", required=True)
    ap.add_argument("-v", "--version", default="5", choices=["5", "4", "4a"])
    ap.add_argument("-d", "--dest", default="127.0.0.1")
    ap.add_argument("-P", "--dport", type=int, default=0)
    ap.add_argument("--methods", default="00")
    ap.add_argument("--cmd", type=lambda x: int(x, 0), default=1)
    ap.add_argument("--atyp")
    ap.add_argument("--user", default="test")
    ap.add_argument("--src")
    ap.add_argument("--pipeline", action="store_true")
    ap.add_argument("--silence", type=float)
    ap.add_argument("--silence-file")
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--go-timeout", type=float, default=30)
    ap.add_argument("--raw")
    ap.add_argument("actions", nargs="*")
    a = ap.parse_args()

    def out(k, v):
        print("%s=%s" % (k, v), flush=True)

    try:
        s = connect_proxy(a.proxy, a.timeout, a.src)
    except ConnectionRefusedError:
        out("error", "refused")
        return 1
    except OSError as e:
        out("error", "connect: %s" % e)
        return 1
    lh, lp = s.getsockname()[:2]
    out("local", fmt_addr(lh, lp))

    if a.raw is not None:
        data = bytes.fromhex(a.raw)
        got = b""
        end = None
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            end = "reset"
        deadline = time.monotonic() + a.timeout
        while end is None:
            left = deadline - time.monotonic()
            if left <= 0:
                end = "timeout"
                break
            s.settimeout(left)
            try:
                b = s.recv(65536)
            except socket.timeout:
                end = "timeout"
                break
            except ConnectionResetError:
                end = "reset"
                break
            if not b:
                end = "eof"
                break
            got += b
            if len(got) > 1 << 20:
                end = "toomuch"
        out("recv", got.hex())
        out("end", end)
        return 0

    def silence_check():
        if a.silence is None:
            return
        r, _, _ = select.select([s], [], [], a.silence)
        if r:
            out("error", "answered-early")
            sys.exit(3)
        if a.silence_file:
            with open(a.silence_file + ".tmp", "w") as f:
                f.write("silent\n")
            os.rename(a.silence_file + ".tmp", a.silence_file)

    actions = list(a.actions)
    first = b""
    sent = hashlib.sha256()
    sent_len = 0

    PAYLOAD_KINDS = ("send", "sendhex", "sendfile", "sendrand")

    def payload_of(act):
        kind, _, arg = act.partition(":")
        if kind == "send":
            return unescape(arg)
        if kind == "sendhex":
            return bytes.fromhex(arg)
        if kind == "sendfile":
            with open(arg, "rb") as f:
                return f.read()
        if kind == "sendrand":
            return os.urandom(int(arg))
        return None

    if a.pipeline:
        while actions and actions[0].partition(":")[0] in PAYLOAD_KINDS:
            p = payload_of(actions.pop(0))
            first += p
            sent.update(p)
            sent_len += len(p)

    try:
        rep, _, _, method = socks_handshake(
            s, a.version, a.dest, a.dport, cmd=a.cmd,
            methods=bytes.fromhex(a.methods), atyp=a.atyp, user=a.user,
            pipeline=a.pipeline, payload=first, out=out,
            silence=silence_check)
        if rep is None:
            out("closed", what_next(s, a.timeout))
            return 0
        if rep != (0 if a.version == "5" else 90):
            out("closed", what_next(s, a.timeout))
            return 0
        for act in actions:
            kind, _, arg = act.partition(":")
            p = payload_of(act)
            if p is not None:
                s.sendall(p)
                sent.update(p)
                sent_len += len(p)
            elif kind == "shutdown":
                s.shutdown(socket.SHUT_WR)
            elif kind == "recv":
                h = hashlib.sha256()
                n = 0
                head = b""
                while True:
                    b = s.recv(1 << 16)
                    if not b:
                        break
                    h.update(b)
                    n += len(b)
                    if len(head) < 512:
                        head += b[:512 - len(head)]
                out("recv-len", n)
                out("recv-sha256", h.hexdigest())
                out("recv-text", head.decode("latin1").replace("\n", "\\n")
                    .replace("\r", "\\r"))
            elif kind == "recvline":
                line = b""
                while not line.endswith(b"\n") and len(line) < 4096:
                    b = s.recv(1)
                    if not b:
                        break
                    line += b
                out("line", line.decode("latin1").rstrip("\n"))
            elif kind == "ready":
                with open(arg + ".tmp", "w") as f:
                    f.write("local=%s\n" % fmt_addr(lh, lp))
                os.rename(arg + ".tmp", arg)
            elif kind == "wait":
                deadline = time.monotonic() + a.go_timeout
                while not os.path.exists(arg):
                    if time.monotonic() > deadline:
                        raise ProtoError("gave up waiting for " + arg)
                    time.sleep(0.05)
            elif kind == "duplex":
                n = int(arg)
                data = os.urandom(n)
                sent.update(data)
                sent_len += n
                err = []

                def sender():
                    try:
                        s.sendall(data)
                        s.shutdown(socket.SHUT_WR)
                    except OSError as e:
                        err.append(e)

                t = threading.Thread(target=sender, daemon=True)
                t.start()
                h = hashlib.sha256()
                got = 0
                while True:
                    b = s.recv(1 << 16)
                    if not b:
                        break
                    h.update(b)
                    got += len(b)
                t.join(a.timeout)
                if err:
                    raise ProtoError("duplex send: %s" % err[0])
                ok = got == n and h.digest() == hashlib.sha256(data).digest()
                out("duplex", "ok" if ok else "mismatch")
                out("duplex-len", got)
            elif kind == "auditcheck":
                me = fmt_addr(lh, lp)
                n = 0
                with open(arg) as f:
                    for line in f:
                        try:
                            r = json.loads(line)
                        except ValueError:
                            continue
                        if isinstance(r, dict) and r.get("event") == "request" \
                                and r.get("client") == me:
                            n += 1
                out("audit-request", n)
            elif kind == "sleep":
                time.sleep(float(arg))
            else:
                raise ProtoError("unknown action " + act)
    except ProtoError as e:
        out("error", str(e))
        return 1
    except socket.timeout:
        out("error", "timeout")
        return 1
    except OSError as e:
        out("error", str(e))
        return 1
    finally:
        out("sent-len", sent_len)
        out("sent-sha256", sent.hexdigest())
    return 0


if __name__ == "__main__":
    sys.exit(main())
