#!/usr/bin/env python3
"""Writes sample-capture.bin: the raw bytes an ESP32 on ESP-AT 2.2 sends to the host during one
whole session, as a logic analyser on its TX line would record them. It is the input of
espat-decode's golden test (tests/data/sample-capture.jsonl) and of decode_roundtrip_test.

Only device-to-host bytes are in the file; the host's commands are named in the comments.
The session is synthetic but every piece follows a published capture or firmware-quirks.md:
boot noise, echo on at first, the 2.x framing of OK / '>' / Recv / SEND OK, +IPD payloads that
look like protocol text, a report injected inside an echo, ERR CODE + busy, passive receive,
+LINK_CONN, and a NONOS-style +IPD with no line end before the next report.

    python3 examples/data/make_sample_capture.py [OUTPUT]   (default: next to this script)
"""

import pathlib
import sys

# Frame payloads, in the order they arrive. decode_roundtrip_test spells the same bytes out
# again on its own; change both together.
IPD_TRICKY = b"HTTP/1.1 200 OK\r\n\r\nOK\r\n+IPD,1,4:fake\r\n>\x00\xff\x00end"
IPD_REMOTE = b"pong"
RECV_120 = b"chunk:" + bytes((i * 37 + 11) & 0xFF for i in range(114))
IPD_NONOS = b"hello"


def session():
    """(what happens, device bytes) in order."""
    s = []

    def dev(note, data):
        s.append((note, data))

    # Power-on: ROM text at another baud rate is garbage here; the last run of it has no line
    # end and runs straight into "ready".
    dev("boot noise", b"\x00\xe0\x1c\x9c\xf3\x8c\x12\xfe\r\n")
    dev("boot noise into ready", b"\xa5\x8e\x04ready\r\n")

    # Echo is on after boot: ATE0 itself comes back, then echo is off.
    dev("ATE0: echo + OK", b"ATE0\r\n\r\nOK\r\n")

    dev("AT+GMR", b"AT version:2.2.0.0(c6fa6bf - ESP32 - Jul  2 2021 06:44:05)\r\n"
                  b"SDK version:v4.2.2-76-gefa6eca\r\n"
                  b"compile time(3a696ba):Jul  2 2021 11:54:43\r\n"
                  b"Bin version:2.2.0(WROOM-32)\r\n"
                  b"\r\nOK\r\n")

    dev('AT+CWJAP="espressif","1234567890"', b"WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n")

    dev("AT+CIPSTA?", b'+CIPSTA:ip:"192.168.3.112"\r\n'
                      b'+CIPSTA:gateway:"192.168.3.1"\r\n'
                      b'+CIPSTA:netmask:"255.255.255.0"\r\n'
                      b"\r\nOK\r\n")

    dev("AT+CIPMUX=1", b"\r\nOK\r\n")
    dev('AT+CIPSTART=0,"TCP","192.168.3.102",8080', b"0,CONNECT\r\n\r\nOK\r\n")

    # The 2.x prompt is a bare '>' after an empty line; the host then sends "hello world".
    dev("AT+CIPSEND=0,11", b"\r\nOK\r\n\r\n>")
    dev("11 bytes sent", b"\r\nRecv 11 bytes\r\n\r\nSEND OK\r\n")

    # The payload holds line ends, OK, a +IPD header, a '>' and bytes 0x00 / 0xFF: it must be
    # counted, never scanned. ESP-AT 2.0 prints CR LF after the payload (not part of it).
    dev("+IPD, payload that looks like protocol",
        b"\r\n+IPD,0,%d:" % len(IPD_TRICKY) + IPD_TRICKY + b"\r\n")

    dev("AT+CIPDINFO=1", b"\r\nOK\r\n")
    dev("+IPD with quoted remote (2.x)",
        b'\r\n+IPD,0,%d,"192.168.3.102",8080:' % len(IPD_REMOTE) + IPD_REMOTE + b"\r\n")

    dev("AT+CIPSERVER=1,333", b"\r\nOK\r\n")
    # ATE1 is received while echo is still off, so it is not echoed itself.
    dev("ATE1", b"\r\nOK\r\n")
    # A client connects as link 1 while "AT+CIPSEND=0,12" is being echoed.
    # "AT+CIPSEND=0," + "1,CONNECT\r\n" + "12\r\n"
    dev("AT+CIPSEND=0,12 echo with 1,CONNECT injected", b"AT+CIPSEND=0,1,CONNECT\r\n12\r\n")
    dev("AT+CIPSEND=0,12 prompt", b"\r\nOK\r\n\r\n>")
    dev("12 bytes sent", b"\r\nRecv 12 bytes\r\n\r\nSEND OK\r\n")
    dev("ATE0", b"ATE0\r\n\r\nOK\r\n")

    dev("AT+SYSLOG=1", b"\r\nOK\r\n")
    # AT+CIPSTATUS sent while AT+CIPSTART waits for DNS: refused as busy, then the
    # CIPSTART completes.
    dev('AT+CIPSTART=2,"TCP","iot.espressif.cn",80 then AT+CIPSTATUS',
        b"ERR CODE:0x010b0000\r\n\r\nbusy p...\r\n2,CONNECT\r\n\r\nOK\r\n")

    dev("AT+CIPRECVMODE=1", b"\r\nOK\r\n")
    dev("passive notification", b"\r\n+IPD,0,%d\r\n" % len(RECV_120))
    dev("AT+CIPRECVDATA=0,120 (CIPDINFO=1: remote quoted)",
        b'+CIPRECVDATA:%d,"192.168.3.102",8080,' % len(RECV_120) + RECV_120 + b"\r\nOK\r\n")
    dev("peer closes link 0", b"0,CLOSED\r\n")

    dev("AT+CIPRECVMODE=0", b"\r\nOK\r\n")
    dev("AT+SYSMSG=4", b"\r\nOK\r\n")
    dev("AT+CIPDINFO=0", b"\r\nOK\r\n")
    dev("client connects as link 0",
        b'+LINK_CONN:0,0,"TCP",1,"192.168.3.110",51234,333\r\n')

    # NONOS / ESP32 1.x style: no line end after the payload; the report follows directly.
    dev("+IPD with CLOSED right after the payload",
        b"\r\n+IPD,0,%d:" % len(IPD_NONOS) + IPD_NONOS + b"0,CLOSED\r\n")
    return s


def main():
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else \
        pathlib.Path(__file__).resolve().parent / "sample-capture.bin"
    data = b"".join(d for _, d in session())
    out.write_bytes(data)
    print(f"{out}: {len(data)} bytes")


if __name__ == "__main__":
    main()
