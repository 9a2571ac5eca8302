/*
 * opentsm PC/SC bridge: a small long-lived process that gives Node access to pcscd through
 * libpcsclite (PC/SC Workgroup API: SCardEstablishContext, SCardListReaders, SCardConnect,
 * SCardTransmit, SCardReconnect, SCardDisconnect) without a native Node module.
 *
 * Built on demand by src/transport/pcsc-bridge.ts:  cc -O2 -o BIN pcsc-bridge.c -lpcsclite
 *
 * Protocol on stdin/stdout, one request then one response, each framed as
 *   u32 big-endian length ‖ body
 * Request body:  op (u8) ‖ payload
 *   01 LIST                                   -> reader names separated by 00
 *   02 CONNECT    share ‖ protocols ‖ name    -> active protocol (u8) ‖ ATR
 *   03 TRANSMIT   C-APDU                      -> R-APDU
 *   04 DISCONNECT disposition                 -> (empty)
 *   05 RECONNECT  share ‖ protocols ‖ init    -> active protocol (u8) ‖ ATR
 * Response body: status (u8: 00 ok, 01 error) ‖ payload
 *   error payload: PC/SC return code (u32 big-endian) ‖ message (UTF-8)
 * End of stdin: disconnect (leave card), release the context, exit 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>

#define MAX_FRAME (1u << 20)
#define MAX_RAPDU (65536u + 2u)

enum { OP_LIST = 1, OP_CONNECT = 2, OP_TRANSMIT = 3, OP_DISCONNECT = 4, OP_RECONNECT = 5 };

static SCARDCONTEXT context;
static int have_context;
static SCARDHANDLE card;
static int have_card;
static DWORD active_protocol;

static int read_exact(unsigned char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(STDIN_FILENO, buf + got, n - got);
		if (r == 0)
			return 0;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return 1;
}

static int write_exact(const unsigned char *buf, size_t n)
{
	size_t put = 0;
	while (put < n) {
		ssize_t r = write(STDOUT_FILENO, buf + put, n - put);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		put += (size_t)r;
	}
	return 0;
}

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Send status ‖ a ‖ b as one frame. */
static void reply(unsigned char status, const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	unsigned char head[5];
	put_u32(head, (uint32_t)(1 + alen + blen));
	head[4] = status;
	if (write_exact(head, sizeof head) < 0 || (alen && write_exact(a, alen) < 0) || (blen && write_exact(b, blen) < 0))
		exit(3);
}

static void reply_error(LONG rv, const char *what)
{
	char msg[256];
	unsigned char code[4];
	snprintf(msg, sizeof msg, "%s: %s (0x%08lX)", what, pcsc_stringify_error(rv), (unsigned long)(uint32_t)rv);
	put_u32(code, (uint32_t)rv);
	reply(1, code, sizeof code, (const unsigned char *)msg, strlen(msg));
}

/* After pcscd went away the context is useless: drop it so the next request makes a new one. */
static void forget_if_dead(LONG rv)
{
	if (rv == SCARD_E_NO_SERVICE || rv == SCARD_E_SERVICE_STOPPED || rv == SCARD_E_INVALID_HANDLE) {
		if (have_card)
			SCardDisconnect(card, SCARD_LEAVE_CARD);
		have_card = 0;
		if (have_context)
			SCardReleaseContext(context);
		have_context = 0;
	}
}

static LONG ensure_context(void)
{
	LONG rv;
	if (have_context)
		return SCARD_S_SUCCESS;
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &context);
	if (rv == SCARD_S_SUCCESS)
		have_context = 1;
	return rv;
}

static void reply_connected(const char *what)
{
	unsigned char atr[MAX_ATR_SIZE + 1];
	DWORD atr_len = MAX_ATR_SIZE;
	char name[MAX_READERNAME];
	DWORD name_len = sizeof name;
	DWORD state, protocol;
	unsigned char proto;
	LONG rv = SCardStatus(card, name, &name_len, &state, &protocol, atr, &atr_len);
	if (rv != SCARD_S_SUCCESS) {
		reply_error(rv, what);
		return;
	}
	proto = (unsigned char)active_protocol;
	reply(0, &proto, 1, atr, atr_len);
}

static void op_list(void)
{
	LONG rv;
	DWORD len = 0;
	char *names;
	if ((rv = ensure_context()) != SCARD_S_SUCCESS) {
		reply_error(rv, "SCardEstablishContext");
		return;
	}
	rv = SCardListReaders(context, NULL, NULL, &len);
	if (rv == SCARD_E_NO_READERS_AVAILABLE) {
		reply(0, NULL, 0, NULL, 0);
		return;
	}
	if (rv != SCARD_S_SUCCESS) {
		forget_if_dead(rv);
		reply_error(rv, "SCardListReaders");
		return;
	}
	names = malloc(len ? len : 1);
	if (!names)
		exit(4);
	rv = SCardListReaders(context, NULL, names, &len);
	if (rv == SCARD_E_NO_READERS_AVAILABLE) {
		reply(0, NULL, 0, NULL, 0);
	} else if (rv != SCARD_S_SUCCESS) {
		forget_if_dead(rv);
		reply_error(rv, "SCardListReaders");
	} else {
		/* Multi-string "a\0b\0\0": send it without the final double terminator. */
		size_t n = len;
		while (n > 0 && names[n - 1] == '\0')
			n--;
		reply(0, (unsigned char *)names, n, NULL, 0);
	}
	free(names);
}

static void op_connect(const unsigned char *p, size_t n)
{
	char name[MAX_READERNAME + 1];
	LONG rv;
	if (n < 3 || n - 2 > MAX_READERNAME) {
		reply_error(SCARD_E_INVALID_PARAMETER, "CONNECT");
		return;
	}
	memcpy(name, p + 2, n - 2);
	name[n - 2] = '\0';
	if ((rv = ensure_context()) != SCARD_S_SUCCESS) {
		reply_error(rv, "SCardEstablishContext");
		return;
	}
	if (have_card) {
		SCardDisconnect(card, SCARD_LEAVE_CARD);
		have_card = 0;
	}
	rv = SCardConnect(context, name, p[0], p[1], &card, &active_protocol);
	if (rv != SCARD_S_SUCCESS) {
		forget_if_dead(rv);
		reply_error(rv, "SCardConnect");
		return;
	}
	have_card = 1;
	reply_connected("SCardStatus");
}

static void op_transmit(const unsigned char *p, size_t n)
{
	static unsigned char rapdu[MAX_RAPDU];
	DWORD rlen = sizeof rapdu;
	const SCARD_IO_REQUEST *pci;
	LONG rv;
	if (!have_card) {
		reply_error(SCARD_E_INVALID_HANDLE, "TRANSMIT without CONNECT");
		return;
	}
	pci = active_protocol == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : active_protocol == SCARD_PROTOCOL_T1 ? SCARD_PCI_T1 : SCARD_PCI_RAW;
	rv = SCardTransmit(card, pci, p, (DWORD)n, NULL, rapdu, &rlen);
	if (rv != SCARD_S_SUCCESS) {
		forget_if_dead(rv);
		reply_error(rv, "SCardTransmit");
		return;
	}
	reply(0, rapdu, rlen, NULL, 0);
}

static void op_disconnect(const unsigned char *p, size_t n)
{
	LONG rv = SCARD_S_SUCCESS;
	if (have_card)
		rv = SCardDisconnect(card, n > 0 ? p[0] : SCARD_LEAVE_CARD);
	have_card = 0;
	if (rv != SCARD_S_SUCCESS) {
		forget_if_dead(rv);
		reply_error(rv, "SCardDisconnect");
		return;
	}
	reply(0, NULL, 0, NULL, 0);
}

static void op_reconnect(const unsigned char *p, size_t n)
{
	LONG rv;
	if (!have_card || n < 3) {
		reply_error(SCARD_E_INVALID_HANDLE, "RECONNECT without CONNECT");
		return;
	}
	rv = SCardReconnect(card, p[0], p[1], p[2], &active_protocol);
	if (rv != SCARD_S_SUCCESS) {
		forget_if_dead(rv);
		reply_error(rv, "SCardReconnect");
		return;
	}
	reply_connected("SCardStatus");
}

int main(void)
{
	unsigned char head[4];
	unsigned char *body = malloc(MAX_FRAME);
	if (!body)
		return 4;
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		uint32_t len;
		int r = read_exact(head, sizeof head);
		if (r <= 0)
			break;
		len = ((uint32_t)head[0] << 24) | ((uint32_t)head[1] << 16) | ((uint32_t)head[2] << 8) | head[3];
		if (len == 0 || len > MAX_FRAME)
			return 2; /* the parent broke the protocol */
		if (read_exact(body, len) <= 0)
			break;
		switch (body[0]) {
		case OP_LIST: op_list(); break;
		case OP_CONNECT: op_connect(body + 1, len - 1); break;
		case OP_TRANSMIT: op_transmit(body + 1, len - 1); break;
		case OP_DISCONNECT: op_disconnect(body + 1, len - 1); break;
		case OP_RECONNECT: op_reconnect(body + 1, len - 1); break;
		default: reply_error(SCARD_E_INVALID_PARAMETER, "unknown operation"); break;
		}
	}
	if (have_card)
		SCardDisconnect(card, SCARD_LEAVE_CARD);
	if (have_context)
		SCardReleaseContext(context);
	free(body);
	return 0;
}
