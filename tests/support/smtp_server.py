#!/usr/bin/python3
"""Loopback SMTP sink for rsvp's integration tests (aiosmtpd 1.4.3).

Run with /usr/bin/python3 (the python3 on PATH may lack aiosmtpd):

    smtp_server.py --port 0 --port-file F [--starttls CERT KEY | --tls CERT KEY]
                   [--auth USER:PASS [--echo-auth]] [--fail CODE] --spool DIR

* Binds 127.0.0.1 (port 0 = any free port) and, once listening, writes the
  bound port to --port-file atomically (temp file + rename).
* --starttls: STARTTLS offered and required before AUTH and MAIL.
* --tls: implicit TLS from the first byte (AUTH then needs
  auth_require_tls=False, because aiosmtpd does not know the socket is TLS).
* --auth USER:PASS: AUTH PLAIN/LOGIN accepted only for these credentials and
  required before MAIL.  A wrong password is answered "535 5.7.8" (the
  AuthResult must say handled=False, or aiosmtpd never replies).
* --echo-auth: a rejected AUTH is answered with the password it received
  (plain and base64) inside the 535 reply, as a careless server might, to
  test that clients redact it.
* --fail CODE: answer the end of DATA with an error instead of 250.  CODE is
  either a bare code (451, 550, ...) or a full reply ("451 4.3.0 try later").
* --spool DIR: each accepted message is saved as DIR/N.eml (the exact bytes
  after dot-unstuffing) and then DIR/N.json (mail_from, rcpt_tos, auth_user,
  tls, peer).  Both are written atomically and the json last, so a reader that
  sees N.json can rely on N.eml being complete.

Stops on SIGTERM/SIGINT.  Logs go to stderr.
"""

import argparse
import base64
import asyncio
import json
import logging
import os
import signal
import socket
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def atomic_write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def fail_reply(arg):
    arg = arg.strip()
    if arg.isdigit():
        code = int(arg)
        if 400 <= code < 500:
            return "%d 4.3.0 try later (test server)" % code
        if 500 <= code < 600:
            return "%d 5.7.1 rejected by test server" % code
        raise SystemExit("--fail: code must be 4xx or 5xx, got %r" % arg)
    if len(arg) < 3 or not arg[:3].isdigit() or arg[0] not in "45":
        raise SystemExit("--fail: expected a 4xx/5xx reply, got %r" % arg)
    return arg


class Handler:
    def __init__(self, spool, fail):
        self.spool = spool
        self.fail = fail
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.fail is not None:
            return self.fail
        self.count += 1
        n = self.count
        transport = server.transport
        tls = transport is not None and transport.get_extra_info("ssl_object") is not None
        auth = session.auth_data
        login = auth.login.decode("utf-8", "replace") if isinstance(auth, LoginPassword) else None
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "auth_user": login if session.authenticated else None,
            "tls": bool(tls),
            "peer": str(session.peer),
        }
        if self.spool:
            atomic_write(os.path.join(self.spool, "%d.eml" % n), envelope.original_content)
            atomic_write(
                os.path.join(self.spool, "%d.json" % n),
                json.dumps(meta, indent=1).encode("utf-8"),
            )
        logging.info("accepted message %d from %r to %r", n, envelope.mail_from, envelope.rcpt_tos)
        return "250 2.0.0 OK queued as %d" % n


def make_authenticator(user, password, echo):
    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        if auth_data.login == user.encode("utf-8") and auth_data.password == password.encode("utf-8"):
            return AuthResult(success=True, auth_data=auth_data)
        # handled=False: aiosmtpd sends the 535 reply itself (handled=True would hang).
        message = None
        if echo:
            blob = b"\0" + auth_data.login + b"\0" + auth_data.password
            message = "535 5.7.8 bad credentials %s / %s / %s" % (
                auth_data.password.decode("utf-8", "replace"),
                base64.b64encode(auth_data.password).decode("ascii"),
                base64.b64encode(blob).decode("ascii"),
            )
            logging.info("rejecting AUTH with: %s", message)
        return AuthResult(success=False, handled=False, message=message)

    return authenticator


def server_context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    sec = p.add_mutually_exclusive_group()
    sec.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    sec.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--auth", metavar="USER:PASS")
    p.add_argument("--echo-auth", action="store_true")
    p.add_argument("--fail", metavar="CODE")
    p.add_argument("--spool", metavar="DIR")
    args = p.parse_args()

    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="smtp_server: %(levelname)s %(name)s: %(message)s")
    # "Requiring AUTH while not requiring TLS" is intended here (loopback tests).
    warnings.simplefilter("ignore")

    fail = fail_reply(args.fail) if args.fail else None
    if args.spool:
        os.makedirs(args.spool, exist_ok=True)
    handler = Handler(args.spool, fail)

    smtp_kwargs = {"decode_data": False, "hostname": "localhost", "enable_SMTPUTF8": True}
    listen_ctx = None
    if args.starttls:
        smtp_kwargs["tls_context"] = server_context(*args.starttls)
        smtp_kwargs["require_starttls"] = True
        smtp_kwargs["auth_require_tls"] = True
    elif args.tls:
        listen_ctx = server_context(*args.tls)
        smtp_kwargs["auth_require_tls"] = False
    else:
        smtp_kwargs["auth_require_tls"] = False
    if args.auth:
        user, sep, password = args.auth.partition(":")
        if not sep:
            raise SystemExit("--auth: expected USER:PASS")
        smtp_kwargs["authenticator"] = make_authenticator(user, password, args.echo_auth)
        smtp_kwargs["auth_required"] = True

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(16)
    server = loop.run_until_complete(
        loop.create_server(lambda: SMTP(handler, loop=loop, **smtp_kwargs),
                           sock=sock, ssl=listen_ctx)
    )
    port = sock.getsockname()[1]
    if args.port_file:
        atomic_write(args.port_file, ("%d\n" % port).encode("ascii"))
    logging.info("listening on %s:%d", args.host, port)

    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    loop.run_until_complete(stop)
    server.close()
    loop.run_until_complete(server.wait_closed())
    loop.close()


if __name__ == "__main__":
    main()
