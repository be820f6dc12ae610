/*
 * test_smtpd_cmd - SMTP command lines: verbs, paths, ESMTP parameters
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"
#include "smtpd_cmd.h"
#include "util/sbuf.h"

#define SIZE	SMTPD_CMD_EXT_SIZE
#define MIME8	SMTPD_CMD_EXT_8BITMIME
#define BINMIME	SMTPD_CMD_EXT_BINARYMIME
#define UTF8	SMTPD_CMD_EXT_SMTPUTF8
#define DSN	SMTPD_CMD_EXT_DSN
#define AUTH	SMTPD_CMD_EXT_AUTH
#define TXN	SMTPD_CMD_TXN_SMTPUTF8
#define ALL	(SIZE | MIME8 | BINMIME | UTF8 | DSN | AUTH)

#define V(x)	SMTPD_VERB_##x

/* A literal that may hold NULs: the text and its length. */
#define BIN(s) s, sizeof(s) - 1

#define X10	"xxxxxxxxxx"
#define X100	X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
#define X90	X10 X10 X10 X10 X10 X10 X10 X10 X10

#define FROM	"MAIL FROM:<a@b.example> "
#define TO	"RCPT TO:<a@b.example> "

/*
 * A row: the line, the advertised extensions, the verb expected (also on
 * error), and what comes out: the dump of the command (see dump_cmd()),
 * or the reply "code status text".
 */
struct cmd_case {
	const char *name;
	const char *in;
	size_t len;
	int flags;
	enum smtpd_verb verb;
	const char *want;
};

static const struct cmd_case cmd_cases[] = {
	/* Verbs, case and spacing. */
	{ "helo", BIN("HELO mail.example.com"), 0, V(HELO),
	    "HELO name=mail.example.com domain=yes" },
	{ "helo lower case", BIN("helo mail.example.com"), 0, V(HELO),
	    "HELO name=mail.example.com domain=yes" },
	{ "ehlo mixed case", BIN("eHlO x.example"), 0, V(EHLO),
	    "EHLO name=x.example domain=yes" },
	{ "ehlo ipv4 literal", BIN("EHLO [192.0.2.1]"), 0, V(EHLO),
	    "EHLO name=[192.0.2.1] domain=yes" },
	{ "ehlo ipv6 literal", BIN("EHLO [IPv6:2001:db8::1]"), 0, V(EHLO),
	    "EHLO name=[IPv6:2001:db8::1] domain=yes" },
	{ "ehlo bad literal", BIN("EHLO [192.0.2.300]"), 0, V(EHLO),
	    "EHLO name=[192.0.2.300] domain=no" },
	{ "ehlo underscore", BIN("EHLO my_host"), 0, V(EHLO),
	    "EHLO name=my_host domain=no" },
	{ "ehlo leading hyphen", BIN("EHLO -x.example"), 0, V(EHLO),
	    "EHLO name=-x.example domain=no" },
	{ "ehlo with spaces", BIN("EHLO My Computer"), 0, V(EHLO),
	    "EHLO name=My Computer domain=no" },
	{ "ehlo extra spaces", BIN("EHLO    x.example   "), 0, V(EHLO),
	    "EHLO name=x.example domain=yes" },
	{ "ehlo trailing tab", BIN("EHLO x.example\t"), 0, V(EHLO),
	    "EHLO name=x.example domain=yes" },
	{ "ehlo missing", BIN("EHLO"), 0, V(EHLO),
	    "501 5.5.4 Syntax: EHLO hostname" },
	{ "ehlo only spaces", BIN("EHLO    "), 0, V(EHLO),
	    "501 5.5.4 Syntax: EHLO hostname" },
	{ "helo 8-bit", BIN("HELO b\xc3\xbc" "cher.example"), ALL, V(HELO),
	    "501 5.5.4 Syntax: HELO hostname" },
	{ "helo tab inside", BIN("HELO a\tb"), 0, V(HELO),
	    "501 5.5.4 Syntax: HELO hostname" },
	{ "tab after verb", BIN("EHLO\tx.example"), 0, V(UNKNOWN),
	    "500 5.5.2 Syntax error, command unrecognized" },
	{ "leading space", BIN(" EHLO x.example"), 0, V(UNKNOWN),
	    "500 5.5.2 Syntax error, command unrecognized" },
	{ "empty line", BIN(""), 0, V(UNKNOWN),
	    "500 5.5.2 Syntax error, command unrecognized" },
	{ "only spaces", BIN("   "), 0, V(UNKNOWN),
	    "500 5.5.2 Syntax error, command unrecognized" },
	{ "unknown verb", BIN("FOO bar"), 0, V(UNKNOWN),
	    "500 5.5.2 Syntax error, command unrecognized" },
	{ "verb with suffix", BIN("MAILX FROM:<a@b.example>"), 0, V(UNKNOWN),
	    "500 5.5.2 Syntax error, command unrecognized" },
	{ "verb cut short", BIN("MAI"), 0, V(UNKNOWN),
	    "500 5.5.2 Syntax error, command unrecognized" },
	{ "mail", BIN("MAIL FROM:<a@b.example>"), 0, V(MAIL),
	    "MAIL path=<a@b.example>" },
	{ "no space after verb", BIN("MAILFROM:<a@b.example>"), 0,
	    V(UNKNOWN), "500 5.5.2 Syntax error, command unrecognized" },
	{ "http request", BIN("GET / HTTP/1.1"), 0, V(UNKNOWN),
	    "500 5.5.2 Syntax error, command unrecognized" },
	{ "8-bit verb", BIN("D\xc3\x84TA"), 0, V(UNKNOWN),
	    "500 5.5.2 Syntax error, command unrecognized" },

	/* NUL and control characters. */
	{ "nul in verb", BIN("MA\0IL FROM:<a@b.example>"), 0, V(UNKNOWN),
	    "500 5.5.2 Syntax error, NUL byte in command" },
	{ "nul in path", BIN("MAIL FROM:<a\0@b.example>"), 0, V(MAIL),
	    "500 5.5.2 Syntax error, NUL byte in command" },
	{ "nul before params", BIN("RCPT TO:<a@b.example>\0 NOTIFY=NEVER"),
	    DSN, V(RCPT), "500 5.5.2 Syntax error, NUL byte in command" },
	{ "nul at end", BIN("NOOP \0"), 0, V(NOOP),
	    "500 5.5.2 Syntax error, NUL byte in command" },
	{ "nul after verb", BIN("QUIT\0"), 0, V(UNKNOWN),
	    "500 5.5.2 Syntax error, NUL byte in command" },
	{ "nul before trailing spaces", BIN("DATA \0  "), 0, V(DATA),
	    "500 5.5.2 Syntax error, NUL byte in command" },
	{ "lone nul", BIN("\0"), 0, V(UNKNOWN),
	    "500 5.5.2 Syntax error, NUL byte in command" },
	{ "nul in helo", BIN("HELO a\0b"), 0, V(HELO),
	    "500 5.5.2 Syntax error, NUL byte in command" },
	{ "bare cr in args", BIN("MAIL FROM:<a@b.example>\r SIZE=1"), ALL,
	    V(MAIL), "500 5.5.2 Syntax error, control character in command" },
	{ "bare cr at end", BIN("QUIT\r"), 0, V(UNKNOWN),
	    "500 5.5.2 Syntax error, control character in command" },
	{ "cr before space", BIN("RSET \r"), 0, V(RSET),
	    "500 5.5.2 Syntax error, control character in command" },
	{ "bare lf", BIN("RCPT TO:<a@\nb.example>"), 0, V(RCPT),
	    "500 5.5.2 Syntax error, control character in command" },
	{ "escape", BIN("NOOP \x1b[2J"), 0, V(NOOP),
	    "500 5.5.2 Syntax error, control character in command" },
	{ "del", BIN("HELO a\x7f"), 0, V(HELO),
	    "500 5.5.2 Syntax error, control character in command" },
	{ "tab in noop", BIN("NOOP a\tb"), 0, V(NOOP), "NOOP" },
	{ "trailing tab", BIN("QUIT\t"), 0, V(QUIT), "QUIT" },

	/* MAIL: the command and the path. */
	{ "mail null", BIN("MAIL FROM:<>"), 0, V(MAIL), "MAIL path=<>" },
	{ "mail lower case", BIN("mail from:<a@b.example>"), 0, V(MAIL),
	    "MAIL path=<a@b.example>" },
	{ "mail space after colon", BIN("MAIL FROM: <a@b.example>"), 0,
	    V(MAIL), "MAIL path=<a@b.example>" },
	{ "mail spaces after colon", BIN("MAIL FROM:   <>"), 0, V(MAIL),
	    "MAIL path=<>" },
	{ "mail spaces after verb", BIN("MAIL   FROM:<a@b.example>"), 0,
	    V(MAIL), "MAIL path=<a@b.example>" },
	{ "mail trailing spaces", BIN("MAIL FROM:<a@b.example>    "), 0,
	    V(MAIL), "MAIL path=<a@b.example>" },
	{ "mail space before colon", BIN("MAIL FROM :<a@b.example>"), 0,
	    V(MAIL), "501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "mail missing path", BIN("MAIL FROM:"), 0, V(MAIL),
	    "501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "mail missing path spaces", BIN("MAIL FROM:   "), 0, V(MAIL),
	    "501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "mail no from", BIN("MAIL <a@b.example>"), 0, V(MAIL),
	    "501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "mail to", BIN("MAIL TO:<a@b.example>"), 0, V(MAIL),
	    "501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "mail alone", BIN("MAIL"), 0, V(MAIL),
	    "501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "mail from without colon", BIN("MAIL FROM"), 0, V(MAIL),
	    "501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "mail bare address", BIN("MAIL FROM:a@b.example"), 0, V(MAIL),
	    "501 5.1.7 Bad sender address syntax: missing angle brackets" },
	{ "mail unclosed", BIN("MAIL FROM:<a@b.example"), 0, V(MAIL),
	    "501 5.1.7 Bad sender address syntax: "
	    "missing closing angle bracket" },
	{ "mail params glued", BIN("MAIL FROM:<a@b.example>SIZE=10"), ALL,
	    V(MAIL),
	    "501 5.1.7 Bad sender address syntax: garbage after address" },
	{ "mail missing domain", BIN("MAIL FROM:<a>"), 0, V(MAIL),
	    "501 5.1.7 Bad sender address syntax: missing domain" },
	{ "mail postmaster", BIN("MAIL FROM:<Postmaster>"), 0, V(MAIL),
	    "501 5.1.7 Bad sender address syntax: missing domain" },
	{ "mail source route", BIN("MAIL FROM:<@a.example,@b.example:u@c."
	    "example>"), 0, V(MAIL), "MAIL path=<u@c.example>" },
	{ "mail bad source route", BIN("MAIL FROM:<@a..example:u@c.example>"),
	    0, V(MAIL),
	    "501 5.1.7 Bad sender address syntax: invalid source route" },
	{ "mail quoted local", BIN("MAIL FROM:<\"a b\"@c.example>"), 0,
	    V(MAIL), "MAIL path=<a b@c.example>" },
	{ "mail quoted bracket", BIN("MAIL FROM:<\"a> b\"@c.example> SIZE=1"),
	    SIZE, V(MAIL), "MAIL path=<a> b@c.example> size=1" },
	{ "mail long local", BIN("MAIL FROM:<" X10 X10 X10 X10 X10 X10 "xxxxx"
	    "@b.example>"), 0, V(MAIL),
	    "501 5.1.7 Bad sender address syntax: local part too long" },

	/* MAIL: SMTPUTF8 and 8-bit paths. */
	{ "mail 8-bit without smtputf8", BIN("MAIL FROM:<j\xc3\xb6@b.example>"),
	    ALL, V(MAIL),
	    "553 5.6.7 Non-ASCII sender address requires SMTPUTF8" },
	{ "mail 8-bit domain", BIN("MAIL FROM:<a@b\xc3\xbc.example>"), ALL,
	    V(MAIL), "553 5.6.7 Non-ASCII sender address requires SMTPUTF8" },
	{ "mail smtputf8", BIN("MAIL FROM:<j\xc3\xb6@b.example> SMTPUTF8"),
	    ALL, V(MAIL), "MAIL path=<j\xc3\xb6@b.example> smtputf8" },
	{ "mail smtputf8 lower case",
	    BIN("MAIL FROM:<j\xc3\xb6@b.example> smtputf8"), ALL, V(MAIL),
	    "MAIL path=<j\xc3\xb6@b.example> smtputf8" },
	{ "mail smtputf8 after size",
	    BIN("MAIL FROM:<j\xc3\xb6@b.example> SIZE=5 SMTPUTF8"), ALL,
	    V(MAIL), "MAIL path=<j\xc3\xb6@b.example> size=5 smtputf8" },
	{ "mail smtputf8 not advertised",
	    BIN("MAIL FROM:<j\xc3\xb6@b.example> SMTPUTF8"), ALL & ~UTF8,
	    V(MAIL), "553 5.6.7 Non-ASCII sender address requires SMTPUTF8" },
	{ "mail smtputf8 ascii not advertised", BIN(FROM "SMTPUTF8"), 0,
	    V(MAIL), "555 5.5.4 Unsupported option: SMTPUTF8" },
	{ "mail smtputf8 ascii", BIN(FROM "SMTPUTF8"), UTF8, V(MAIL),
	    "MAIL path=<a@b.example> smtputf8" },
	{ "mail smtputf8 bad utf-8",
	    BIN("MAIL FROM:<a\xc3@b.example> SMTPUTF8"), ALL, V(MAIL),
	    "501 5.1.7 Bad sender address syntax: invalid UTF-8 in address" },
	{ "mail smtputf8 overlong",
	    BIN("MAIL FROM:<a\xc0\xaf@b.example> SMTPUTF8"), ALL, V(MAIL),
	    "501 5.1.7 Bad sender address syntax: invalid UTF-8 in address" },
	{ "mail smtputf8 with value", BIN(FROM "SMTPUTF8=yes"), ALL, V(MAIL),
	    "501 5.5.4 SMTPUTF8 takes no value" },
	{ "mail smtputf8 empty value", BIN(FROM "SMTPUTF8="), ALL, V(MAIL),
	    "501 5.5.4 SMTPUTF8 takes no value" },
	{ "mail smtputf8 twice", BIN(FROM "SMTPUTF8 SMTPUTF8"), ALL, V(MAIL),
	    "501 5.5.4 Duplicate SMTPUTF8 parameter" },

	/* MAIL: SIZE. */
	{ "size", BIN(FROM "SIZE=1000"), SIZE, V(MAIL),
	    "MAIL path=<a@b.example> size=1000" },
	{ "size zero", BIN(FROM "SIZE=0"), SIZE, V(MAIL),
	    "MAIL path=<a@b.example> size=0" },
	{ "size lower case", BIN(FROM "size=10"), SIZE, V(MAIL),
	    "MAIL path=<a@b.example> size=10" },
	{ "size largest", BIN(FROM "SIZE=18446744073709551615"), SIZE,
	    V(MAIL), "MAIL path=<a@b.example> size=18446744073709551615" },
	{ "size leading zeros", BIN(FROM "SIZE=00000000000000000042"), SIZE,
	    V(MAIL), "MAIL path=<a@b.example> size=42" },
	{ "size overflow", BIN(FROM "SIZE=18446744073709551616"), SIZE,
	    V(MAIL), "501 5.5.4 Bad SIZE value" },
	{ "size huge", BIN(FROM "SIZE=99999999999999999999999"), SIZE,
	    V(MAIL), "501 5.5.4 Bad SIZE value" },
	{ "size 21 digits", BIN(FROM "SIZE=000000000000000000001"), SIZE,
	    V(MAIL), "501 5.5.4 Bad SIZE value" },
	{ "size negative", BIN(FROM "SIZE=-1"), SIZE, V(MAIL),
	    "501 5.5.4 Bad SIZE value" },
	{ "size plus", BIN(FROM "SIZE=+5"), SIZE, V(MAIL),
	    "501 5.5.4 Bad SIZE value" },
	{ "size empty", BIN(FROM "SIZE="), SIZE, V(MAIL),
	    "501 5.5.4 Bad SIZE value" },
	{ "size without value", BIN(FROM "SIZE"), SIZE, V(MAIL),
	    "501 5.5.4 Bad SIZE value" },
	{ "size hex", BIN(FROM "SIZE=0x10"), SIZE, V(MAIL),
	    "501 5.5.4 Bad SIZE value" },
	{ "size suffix", BIN(FROM "SIZE=10k"), SIZE, V(MAIL),
	    "501 5.5.4 Bad SIZE value" },
	{ "size space before value", BIN(FROM "SIZE= 10"), SIZE, V(MAIL),
	    "501 5.5.4 Bad SIZE value" },
	{ "size not advertised", BIN(FROM "SIZE=10"), ALL & ~SIZE, V(MAIL),
	    "555 5.5.4 Unsupported option: SIZE" },
	{ "size twice", BIN(FROM "SIZE=10 SIZE=20"), SIZE, V(MAIL),
	    "501 5.5.4 Duplicate SIZE parameter" },
	{ "size twice any case", BIN(FROM "SIZE=10 size=10"), SIZE, V(MAIL),
	    "501 5.5.4 Duplicate SIZE parameter" },
	{ "params spaced out",
	    BIN(FROM "   SIZE=10    BODY=8BITMIME   "), ALL, V(MAIL),
	    "MAIL path=<a@b.example> size=10 body=8BITMIME" },
	{ "params tab separated", BIN(FROM "SIZE=10\tBODY=8BITMIME"), ALL,
	    V(MAIL), "501 5.5.4 Bad SIZE value" },

	/* MAIL: BODY. */
	{ "body 7bit", BIN(FROM "BODY=7BIT"), MIME8, V(MAIL),
	    "MAIL path=<a@b.example> body=7BIT" },
	{ "body 8bitmime", BIN(FROM "BODY=8BITMIME"), MIME8, V(MAIL),
	    "MAIL path=<a@b.example> body=8BITMIME" },
	{ "body lower case", BIN(FROM "body=8bitmime"), MIME8, V(MAIL),
	    "MAIL path=<a@b.example> body=8BITMIME" },
	{ "body binarymime", BIN(FROM "BODY=BINARYMIME"), MIME8 | BINMIME,
	    V(MAIL), "MAIL path=<a@b.example> body=BINARYMIME" },
	{ "body binarymime not advertised", BIN(FROM "BODY=BINARYMIME"),
	    MIME8, V(MAIL), "555 5.5.4 Unsupported option: BODY=BINARYMIME" },
	{ "body 8bitmime not advertised", BIN(FROM "BODY=8BITMIME"), BINMIME,
	    V(MAIL), "555 5.5.4 Unsupported option: BODY=8BITMIME" },
	{ "body 7bit with binarymime", BIN(FROM "BODY=7BIT"), BINMIME,
	    V(MAIL), "MAIL path=<a@b.example> body=7BIT" },
	{ "body not advertised", BIN(FROM "BODY=7BIT"), SIZE, V(MAIL),
	    "555 5.5.4 Unsupported option: BODY" },
	{ "body unknown", BIN(FROM "BODY=9BIT"), ALL, V(MAIL),
	    "501 5.5.4 Bad BODY value" },
	{ "body empty", BIN(FROM "BODY="), ALL, V(MAIL),
	    "501 5.5.4 Bad BODY value" },
	{ "body without value", BIN(FROM "BODY"), ALL, V(MAIL),
	    "501 5.5.4 Bad BODY value" },
	{ "body twice", BIN(FROM "BODY=7BIT BODY=8BITMIME"), ALL, V(MAIL),
	    "501 5.5.4 Duplicate BODY parameter" },

	/* MAIL: RET and ENVID. */
	{ "ret full", BIN(FROM "RET=FULL"), DSN, V(MAIL),
	    "MAIL path=<a@b.example> ret=FULL" },
	{ "ret hdrs lower case", BIN(FROM "ret=hdrs"), DSN, V(MAIL),
	    "MAIL path=<a@b.example> ret=HDRS" },
	{ "ret unknown", BIN(FROM "RET=ALL"), DSN, V(MAIL),
	    "501 5.5.4 Bad RET value" },
	{ "ret without value", BIN(FROM "RET"), DSN, V(MAIL),
	    "501 5.5.4 Bad RET value" },
	{ "ret without dsn", BIN(FROM "RET=FULL"), ALL & ~DSN, V(MAIL),
	    "555 5.5.4 Unsupported option: RET" },
	{ "ret twice", BIN(FROM "RET=FULL RET=HDRS"), DSN, V(MAIL),
	    "501 5.5.4 Duplicate RET parameter" },
	{ "envid", BIN(FROM "ENVID=QQ314159"), DSN, V(MAIL),
	    "MAIL path=<a@b.example> envid=QQ314159" },
	{ "envid xtext", BIN(FROM "ENVID=a+2Bb+3Dc+20d"), DSN, V(MAIL),
	    "MAIL path=<a@b.example> envid=a+b=c d" },
	{ "envid lower case hex", BIN(FROM "ENVID=a+2bb"), DSN, V(MAIL),
	    "MAIL path=<a@b.example> envid=a+b" },
	{ "envid bad hex", BIN(FROM "ENVID=+G1"), DSN, V(MAIL),
	    "501 5.5.4 Bad ENVID value" },
	{ "envid short hex", BIN(FROM "ENVID=ab+2"), DSN, V(MAIL),
	    "501 5.5.4 Bad ENVID value" },
	{ "envid lone plus", BIN(FROM "ENVID=+"), DSN, V(MAIL),
	    "501 5.5.4 Bad ENVID value" },
	{ "envid equals", BIN(FROM "ENVID=a=b"), DSN, V(MAIL),
	    "501 5.5.4 Bad ENVID value" },
	{ "envid encoded nul", BIN(FROM "ENVID=a+00b"), DSN, V(MAIL),
	    "501 5.5.4 Bad ENVID value" },
	{ "envid encoded lf", BIN(FROM "ENVID=a+0Ab"), DSN, V(MAIL),
	    "501 5.5.4 Bad ENVID value" },
	{ "envid encoded 8-bit", BIN(FROM "ENVID=+C3+A9"), DSN, V(MAIL),
	    "501 5.5.4 Bad ENVID value" },
	{ "envid raw 8-bit", BIN(FROM "ENVID=\xc3\xa9"), DSN, V(MAIL),
	    "501 5.5.4 Bad ENVID value" },
	{ "envid empty", BIN(FROM "ENVID="), DSN, V(MAIL),
	    "501 5.5.4 Bad ENVID value" },
	{ "envid without value", BIN(FROM "ENVID"), DSN, V(MAIL),
	    "501 5.5.4 Bad ENVID value" },
	{ "envid 100", BIN(FROM "ENVID=" X100), DSN, V(MAIL),
	    "MAIL path=<a@b.example> envid=" X100 },
	{ "envid 101", BIN(FROM "ENVID=" X100 "x"), DSN, V(MAIL),
	    "501 5.5.4 Bad ENVID value" },
	{ "envid without dsn", BIN(FROM "ENVID=x"), ALL & ~DSN, V(MAIL),
	    "555 5.5.4 Unsupported option: ENVID" },
	{ "envid twice", BIN(FROM "ENVID=x ENVID=x"), DSN, V(MAIL),
	    "501 5.5.4 Duplicate ENVID parameter" },

	/* MAIL: AUTH. */
	{ "auth null", BIN(FROM "AUTH=<>"), AUTH, V(MAIL),
	    "MAIL path=<a@b.example> auth=<>" },
	{ "auth kept encoded", BIN(FROM "AUTH=e+3Dmc2@example.com"), AUTH,
	    V(MAIL), "MAIL path=<a@b.example> auth=e+3Dmc2@example.com" },
	{ "auth bad xtext", BIN(FROM "AUTH=a+ZZ"), AUTH, V(MAIL),
	    "501 5.5.4 Bad AUTH value" },
	{ "auth empty", BIN(FROM "AUTH="), AUTH, V(MAIL),
	    "501 5.5.4 Bad AUTH value" },
	{ "auth not advertised", BIN(FROM "AUTH=<>"), ALL & ~AUTH, V(MAIL),
	    "555 5.5.4 Unsupported option: AUTH" },

	/* MAIL: everything, and what is not a parameter. */
	{ "mail all parameters", BIN(FROM "SIZE=12345 BODY=8BITMIME "
	    "RET=HDRS ENVID=QQ314159 AUTH=<> SMTPUTF8"), ALL, V(MAIL),
	    "MAIL path=<a@b.example> size=12345 body=8BITMIME smtputf8 "
	    "ret=HDRS envid=QQ314159 auth=<>" },
	{ "null sender with parameters", BIN("MAIL FROM:<> SIZE=1 RET=FULL"),
	    ALL, V(MAIL), "MAIL path=<> size=1 ret=FULL" },
	{ "unknown parameter", BIN(FROM "FOO=bar"), ALL, V(MAIL),
	    "555 5.5.4 Unsupported option: FOO" },
	{ "unknown keyword", BIN(FROM "X-FOO"), ALL, V(MAIL),
	    "555 5.5.4 Unsupported option: X-FOO" },
	{ "unknown after good", BIN(FROM "SIZE=1 XVERP"), ALL, V(MAIL),
	    "555 5.5.4 Unsupported option: XVERP" },
	{ "long unknown keyword", BIN(FROM X10 X10 X10 X10 "=1"), ALL,
	    V(MAIL), "555 5.5.4 Unsupported option: " X10 X10 X10 "xx..." },
	{ "empty keyword", BIN(FROM "=x"), ALL, V(MAIL),
	    "501 5.5.4 Bad parameter syntax" },
	{ "keyword leading hyphen", BIN(FROM "-X=1"), ALL, V(MAIL),
	    "501 5.5.4 Bad parameter syntax" },
	{ "keyword underscore", BIN(FROM "SI_ZE=1"), ALL, V(MAIL),
	    "501 5.5.4 Bad parameter syntax" },
	{ "keyword 8-bit", BIN(FROM "SIZ\xc3\x89=1"), ALL, V(MAIL),
	    "501 5.5.4 Bad parameter syntax" },
	{ "rcpt parameter on mail", BIN(FROM "NOTIFY=NEVER"), ALL, V(MAIL),
	    "555 5.5.4 Unsupported option: NOTIFY" },
	{ "parameters after helo", BIN(FROM "SIZE=10"), 0, V(MAIL),
	    "555 5.5.4 Unsupported option: SIZE" },

	/* RCPT: the command and the path. */
	{ "rcpt", BIN("RCPT TO:<a@b.example>"), 0, V(RCPT),
	    "RCPT path=<a@b.example>" },
	{ "rcpt lower case", BIN("rcpt to:<a@b.example>"), 0, V(RCPT),
	    "RCPT path=<a@b.example>" },
	{ "rcpt space after colon", BIN("RCPT TO: <a@b.example>"), 0, V(RCPT),
	    "RCPT path=<a@b.example>" },
	{ "rcpt postmaster", BIN("RCPT TO:<Postmaster>"), 0, V(RCPT),
	    "RCPT path=<Postmaster>" },
	{ "rcpt postmaster lower case", BIN("RCPT TO:<postmaster>"), 0,
	    V(RCPT), "RCPT path=<postmaster>" },
	{ "rcpt postmaster quoted", BIN("RCPT TO:<\"postmaster\">"), 0,
	    V(RCPT), "501 5.1.3 Bad recipient address syntax: missing domain" },
	{ "rcpt null", BIN("RCPT TO:<>"), 0, V(RCPT),
	    "501 5.1.3 Bad recipient address syntax: null address not allowed"
	},
	{ "rcpt from", BIN("RCPT FROM:<a@b.example>"), 0, V(RCPT),
	    "501 5.5.4 Syntax: RCPT TO:<address>" },
	{ "rcpt missing path", BIN("RCPT TO:"), 0, V(RCPT),
	    "501 5.5.4 Syntax: RCPT TO:<address>" },
	{ "rcpt source route", BIN("RCPT TO:<@a.example:u@c.example>"), 0,
	    V(RCPT), "RCPT path=<u@c.example>" },
	{ "rcpt bare", BIN("RCPT TO:u@c.example"), 0, V(RCPT),
	    "501 5.1.3 Bad recipient address syntax: missing angle brackets" },
	{ "rcpt 8-bit without smtputf8", BIN("RCPT TO:<j\xc3\xb6@b.example>"),
	    ALL, V(RCPT),
	    "553 5.6.7 Non-ASCII recipient address requires SMTPUTF8" },
	{ "rcpt 8-bit in smtputf8 transaction",
	    BIN("RCPT TO:<j\xc3\xb6@b.example>"), ALL | TXN, V(RCPT),
	    "RCPT path=<j\xc3\xb6@b.example>" },
	{ "rcpt smtputf8 parameter", BIN(TO "SMTPUTF8"), ALL, V(RCPT),
	    "555 5.5.4 Unsupported option: SMTPUTF8" },

	/* RCPT: NOTIFY. */
	{ "notify never", BIN(TO "NOTIFY=NEVER"), DSN, V(RCPT),
	    "RCPT path=<a@b.example> notify=NEVER" },
	{ "notify all three", BIN(TO "NOTIFY=SUCCESS,FAILURE,DELAY"), DSN,
	    V(RCPT), "RCPT path=<a@b.example> notify=SUCCESS,FAILURE,DELAY" },
	{ "notify any case and order", BIN(TO "notify=delay,Success"), DSN,
	    V(RCPT), "RCPT path=<a@b.example> notify=SUCCESS,DELAY" },
	{ "notify never and success", BIN(TO "NOTIFY=NEVER,SUCCESS"), DSN,
	    V(RCPT), "501 5.5.4 Bad NOTIFY value" },
	{ "notify success and never", BIN(TO "NOTIFY=SUCCESS,NEVER"), DSN,
	    V(RCPT), "501 5.5.4 Bad NOTIFY value" },
	{ "notify repeated", BIN(TO "NOTIFY=SUCCESS,SUCCESS"), DSN, V(RCPT),
	    "501 5.5.4 Bad NOTIFY value" },
	{ "notify trailing comma", BIN(TO "NOTIFY=SUCCESS,"), DSN, V(RCPT),
	    "501 5.5.4 Bad NOTIFY value" },
	{ "notify leading comma", BIN(TO "NOTIFY=,SUCCESS"), DSN, V(RCPT),
	    "501 5.5.4 Bad NOTIFY value" },
	{ "notify empty", BIN(TO "NOTIFY="), DSN, V(RCPT),
	    "501 5.5.4 Bad NOTIFY value" },
	{ "notify without value", BIN(TO "NOTIFY"), DSN, V(RCPT),
	    "501 5.5.4 Bad NOTIFY value" },
	{ "notify unknown", BIN(TO "NOTIFY=SOMETIMES"), DSN, V(RCPT),
	    "501 5.5.4 Bad NOTIFY value" },
	{ "notify without dsn", BIN(TO "NOTIFY=NEVER"), ALL & ~DSN, V(RCPT),
	    "555 5.5.4 Unsupported option: NOTIFY" },
	{ "notify twice", BIN(TO "NOTIFY=NEVER NOTIFY=DELAY"), DSN, V(RCPT),
	    "501 5.5.4 Duplicate NOTIFY parameter" },

	/* RCPT: ORCPT. */
	{ "orcpt", BIN(TO "ORCPT=rfc822;a@b.example"), DSN, V(RCPT),
	    "RCPT path=<a@b.example> orcpt=rfc822;a@b.example" },
	{ "orcpt type folded", BIN(TO "ORCPT=RFC822;a+2Bb@b.example"), DSN,
	    V(RCPT), "RCPT path=<a@b.example> orcpt=rfc822;a+b@b.example" },
	{ "orcpt other type", BIN(TO "ORCPT=x-foo;+2F"), DSN, V(RCPT),
	    "RCPT path=<a@b.example> orcpt=x-foo;/" },
	{ "orcpt with notify", BIN(TO "NOTIFY=FAILURE ORCPT=rfc822;a@b"), DSN,
	    V(RCPT),
	    "RCPT path=<a@b.example> notify=FAILURE orcpt=rfc822;a@b" },
	{ "orcpt empty address", BIN(TO "ORCPT=rfc822;"), DSN, V(RCPT),
	    "501 5.5.4 Bad ORCPT value" },
	{ "orcpt empty type", BIN(TO "ORCPT=;a@b"), DSN, V(RCPT),
	    "501 5.5.4 Bad ORCPT value" },
	{ "orcpt bad type", BIN(TO "ORCPT=rfc_822;a@b"), DSN, V(RCPT),
	    "501 5.5.4 Bad ORCPT value" },
	{ "orcpt no semicolon", BIN(TO "ORCPT=rfc822"), DSN, V(RCPT),
	    "501 5.5.4 Bad ORCPT value" },
	{ "orcpt without value", BIN(TO "ORCPT"), DSN, V(RCPT),
	    "501 5.5.4 Bad ORCPT value" },
	{ "orcpt bad xtext", BIN(TO "ORCPT=rfc822;a+G1"), DSN, V(RCPT),
	    "501 5.5.4 Bad ORCPT value" },
	{ "orcpt encoded nul", BIN(TO "ORCPT=rfc822;a+00"), DSN, V(RCPT),
	    "501 5.5.4 Bad ORCPT value" },
	{ "orcpt rfc822 8-bit", BIN(TO "ORCPT=rfc822;j\xc3\xb6@b"), DSN | TXN,
	    V(RCPT), "501 5.5.4 Bad ORCPT value" },
	{ "orcpt 500", BIN(TO "ORCPT=rfc822;" X100 X100 X100 X100 X90 "xxx"),
	    DSN, V(RCPT), "RCPT path=<a@b.example> orcpt=rfc822;"
	    X100 X100 X100 X100 X90 "xxx" },
	{ "orcpt 501", BIN(TO "ORCPT=rfc822;" X100 X100 X100 X100 X90 "xxxx"),
	    DSN, V(RCPT), "501 5.5.4 Bad ORCPT value" },
	{ "orcpt without dsn", BIN(TO "ORCPT=rfc822;a@b"), ALL & ~DSN, V(RCPT),
	    "555 5.5.4 Unsupported option: ORCPT" },
	{ "orcpt twice", BIN(TO "ORCPT=rfc822;a@b ORCPT=rfc822;a@b"), DSN,
	    V(RCPT), "501 5.5.4 Duplicate ORCPT parameter" },

	/* RCPT: ORCPT=utf-8 (RFC 6533). */
	{ "orcpt utf-8 escaped", BIN(TO "ORCPT=utf-8;j\\x{F6}@b.example"), DSN,
	    V(RCPT),
	    "RCPT path=<a@b.example> orcpt=utf-8;j\xc3\xb6@b.example" },
	{ "orcpt utf-8 four bytes", BIN(TO "ORCPT=UTF-8;\\x{1f600}@b"), DSN,
	    V(RCPT), "RCPT path=<a@b.example> orcpt=utf-8;\xf0\x9f\x98\x80@b" },
	{ "orcpt utf-8 escaped plus", BIN(TO "ORCPT=utf-8;a\\x{2B}b@c"), DSN,
	    V(RCPT), "RCPT path=<a@b.example> orcpt=utf-8;a+b@c" },
	{ "orcpt utf-8 raw", BIN(TO "ORCPT=utf-8;j\xc3\xb6@b.example"),
	    DSN | TXN, V(RCPT),
	    "RCPT path=<a@b.example> orcpt=utf-8;j\xc3\xb6@b.example" },
	{ "orcpt utf-8 raw outside smtputf8",
	    BIN(TO "ORCPT=utf-8;j\xc3\xb6@b.example"), DSN, V(RCPT),
	    "501 5.5.4 Bad ORCPT value" },
	{ "orcpt utf-8 raw invalid", BIN(TO "ORCPT=utf-8;j\xc3(@b"),
	    DSN | TXN, V(RCPT), "501 5.5.4 Bad ORCPT value" },
	{ "orcpt utf-8 raw c1", BIN(TO "ORCPT=utf-8;j\xc2\x85@b"),
	    DSN | TXN, V(RCPT), "501 5.5.4 Bad ORCPT value" },
	{ "orcpt utf-8 plus", BIN(TO "ORCPT=utf-8;a+2Bb@c"), DSN, V(RCPT),
	    "501 5.5.4 Bad ORCPT value" },
	{ "orcpt utf-8 nul", BIN(TO "ORCPT=utf-8;a\\x{0}"), DSN, V(RCPT),
	    "501 5.5.4 Bad ORCPT value" },
	{ "orcpt utf-8 c1", BIN(TO "ORCPT=utf-8;a\\x{85}"), DSN, V(RCPT),
	    "501 5.5.4 Bad ORCPT value" },
	{ "orcpt utf-8 surrogate", BIN(TO "ORCPT=utf-8;a\\x{D800}"), DSN,
	    V(RCPT), "501 5.5.4 Bad ORCPT value" },
	{ "orcpt utf-8 past max", BIN(TO "ORCPT=utf-8;a\\x{110000}"), DSN,
	    V(RCPT), "501 5.5.4 Bad ORCPT value" },
	{ "orcpt utf-8 seven digits", BIN(TO "ORCPT=utf-8;a\\x{0000041}"), DSN,
	    V(RCPT), "501 5.5.4 Bad ORCPT value" },
	{ "orcpt utf-8 no digits", BIN(TO "ORCPT=utf-8;a\\x{}"), DSN, V(RCPT),
	    "501 5.5.4 Bad ORCPT value" },
	{ "orcpt utf-8 unterminated", BIN(TO "ORCPT=utf-8;a\\x{41"), DSN,
	    V(RCPT), "501 5.5.4 Bad ORCPT value" },
	{ "orcpt utf-8 lone backslash", BIN(TO "ORCPT=utf-8;a\\"), DSN,
	    V(RCPT), "501 5.5.4 Bad ORCPT value" },
	{ "orcpt utf-8 other escape", BIN(TO "ORCPT=utf-8;a\\y{41}"), DSN,
	    V(RCPT), "501 5.5.4 Bad ORCPT value" },

	/* Commands without arguments, or whose argument is ignored. */
	{ "data", BIN("DATA"), 0, V(DATA), "DATA" },
	{ "data lower case", BIN("data"), 0, V(DATA), "DATA" },
	{ "data trailing spaces", BIN("DATA   "), 0, V(DATA), "DATA" },
	{ "data argument", BIN("DATA now"), 0, V(DATA),
	    "501 5.5.4 Syntax: DATA" },
	{ "rset", BIN("RSET"), 0, V(RSET), "RSET" },
	{ "rset argument", BIN("RSET x"), 0, V(RSET),
	    "501 5.5.4 Syntax: RSET" },
	{ "quit", BIN("quit"), 0, V(QUIT), "QUIT" },
	{ "quit argument", BIN("QUIT now"), 0, V(QUIT),
	    "501 5.5.4 Syntax: QUIT" },
	{ "starttls", BIN("StartTLS"), 0, V(STARTTLS), "STARTTLS" },
	{ "starttls argument", BIN("STARTTLS x"), 0, V(STARTTLS),
	    "501 5.5.4 Syntax: STARTTLS" },
	{ "noop", BIN("NOOP"), 0, V(NOOP), "NOOP" },
	{ "noop argument", BIN("NOOP anything \xff at all"), 0, V(NOOP),
	    "NOOP" },
	{ "help", BIN("help"), 0, V(HELP), "HELP" },
	{ "help topic", BIN("HELP MAIL"), 0, V(HELP), "HELP" },

	/* VRFY and EXPN. */
	{ "vrfy", BIN("VRFY postmaster"), 0, V(VRFY), "VRFY arg=postmaster" },
	{ "vrfy spaces", BIN("VRFY   John Smith  "), 0, V(VRFY),
	    "VRFY arg=John Smith" },
	{ "vrfy tab", BIN("VRFY a\tb"), 0, V(VRFY), "VRFY arg=a\tb" },
	{ "vrfy 8-bit", BIN("VRFY j\xc3\xb6"), 0, V(VRFY),
	    "VRFY arg=j\xc3\xb6" },
	{ "vrfy missing", BIN("VRFY"), 0, V(VRFY),
	    "501 5.5.4 Syntax: VRFY address" },
	{ "expn", BIN("expn staff"), 0, V(EXPN), "EXPN arg=staff" },
	{ "expn missing", BIN("EXPN  "), 0, V(EXPN),
	    "501 5.5.4 Syntax: EXPN mailing-list" },

	/* BDAT. */
	{ "bdat", BIN("BDAT 1000"), 0, V(BDAT), "BDAT count=1000" },
	{ "bdat last", BIN("BDAT 0 LAST"), 0, V(BDAT), "BDAT count=0 last" },
	{ "bdat lower case", BIN("bdat 10 last"), 0, V(BDAT),
	    "BDAT count=10 last" },
	{ "bdat spaces", BIN("BDAT   10   LAST  "), 0, V(BDAT),
	    "BDAT count=10 last" },
	{ "bdat largest", BIN("BDAT 18446744073709551615"), 0, V(BDAT),
	    "BDAT count=18446744073709551615" },
	{ "bdat overflow", BIN("BDAT 18446744073709551616"), 0, V(BDAT),
	    "501 5.5.4 Syntax: BDAT count [LAST]" },
	{ "bdat missing", BIN("BDAT"), 0, V(BDAT),
	    "501 5.5.4 Syntax: BDAT count [LAST]" },
	{ "bdat negative", BIN("BDAT -1"), 0, V(BDAT),
	    "501 5.5.4 Syntax: BDAT count [LAST]" },
	{ "bdat junk", BIN("BDAT 1x"), 0, V(BDAT),
	    "501 5.5.4 Syntax: BDAT count [LAST]" },
	{ "bdat last only", BIN("BDAT LAST"), 0, V(BDAT),
	    "501 5.5.4 Syntax: BDAT count [LAST]" },
	{ "bdat other marker", BIN("BDAT 10 FIRST"), 0, V(BDAT),
	    "501 5.5.4 Syntax: BDAT count [LAST]" },
	{ "bdat after last", BIN("BDAT 10 LAST x"), 0, V(BDAT),
	    "501 5.5.4 Syntax: BDAT count [LAST]" },

	/* AUTH. */
	{ "auth plain", BIN("AUTH PLAIN"), 0, V(AUTH), "AUTH mech=PLAIN" },
	{ "auth lower case", BIN("auth login"), 0, V(AUTH), "AUTH mech=LOGIN" },
	{ "auth initial", BIN("AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q="), 0, V(AUTH),
	    "AUTH mech=PLAIN initial=dGVzdAB0ZXN0AHRlc3Q=" },
	{ "auth initial two pads", BIN("AUTH PLAIN YQ=="), 0, V(AUTH),
	    "AUTH mech=PLAIN initial=YQ==" },
	{ "auth empty initial", BIN("AUTH PLAIN ="), 0, V(AUTH),
	    "AUTH mech=PLAIN initial==" },
	{ "auth mechanism chars", BIN("AUTH scram-sha-256 biws"), 0, V(AUTH),
	    "AUTH mech=SCRAM-SHA-256 initial=biws" },
	{ "auth mechanism underscore", BIN("AUTH X_Y"), 0, V(AUTH),
	    "AUTH mech=X_Y" },
	{ "auth mechanism 20", BIN("AUTH " X10 X10), 0, V(AUTH),
	    "AUTH mech=XXXXXXXXXXXXXXXXXXXX" },
	{ "auth mechanism 21", BIN("AUTH " X10 X10 "x"), 0, V(AUTH),
	    "501 5.5.4 Syntax: AUTH mechanism [initial-response]" },
	{ "auth mechanism bad char", BIN("AUTH PL@IN"), 0, V(AUTH),
	    "501 5.5.4 Syntax: AUTH mechanism [initial-response]" },
	{ "auth missing", BIN("AUTH"), 0, V(AUTH),
	    "501 5.5.4 Syntax: AUTH mechanism [initial-response]" },
	{ "auth extra word", BIN("AUTH PLAIN YQ== x"), 0, V(AUTH),
	    "501 5.5.4 Syntax: AUTH mechanism [initial-response]" },
	{ "auth short base64", BIN("AUTH PLAIN abc"), 0, V(AUTH),
	    "501 5.5.2 Invalid base64 in initial response" },
	{ "auth three pads", BIN("AUTH PLAIN a==="), 0, V(AUTH),
	    "501 5.5.2 Invalid base64 in initial response" },
	{ "auth all pads", BIN("AUTH PLAIN ===="), 0, V(AUTH),
	    "501 5.5.2 Invalid base64 in initial response" },
	{ "auth two equals", BIN("AUTH PLAIN =="), 0, V(AUTH),
	    "501 5.5.2 Invalid base64 in initial response" },
	{ "auth pad inside", BIN("AUTH PLAIN ab=c"), 0, V(AUTH),
	    "501 5.5.2 Invalid base64 in initial response" },
	{ "auth bad char", BIN("AUTH PLAIN ab*c"), 0, V(AUTH),
	    "501 5.5.2 Invalid base64 in initial response" },
};

/* Appends a dump of every field of c that is not zero to out. */
static void
dump_cmd(const struct smtpd_cmd *c, struct sbuf *out)
{
	static const char *const bodies[] = { "", "7BIT", "8BITMIME",
	    "BINARYMIME" };
	static const char *const rets[] = { "", "FULL", "HDRS" };
	static const char *const notifies[] = { "NEVER", "SUCCESS",
	    "FAILURE", "DELAY" };

	sbuf_cat(out, smtpd_verb_name(c->verb));
	if (c->path != NULL)
		sbuf_printf(out, " path=<%s%s%s>", c->path->local,
		    c->path->domain != NULL ? "@" : "",
		    c->path->domain != NULL ? c->path->domain : "");
	if (c->arg != NULL)
		sbuf_printf(out, " arg=%s", c->arg);
	if (c->helo.name != NULL || c->helo.is_domain)
		sbuf_printf(out, " name=%s domain=%s",
		    c->helo.name ? c->helo.name : "(null)",
		    c->helo.is_domain ? "yes" : "no");
	if (c->mail.has_size || c->mail.size != 0)
		sbuf_printf(out, " size=%llu", c->mail.size);
	if (c->mail.body != SMTPD_BODY_NONE)
		sbuf_printf(out, " body=%s", bodies[c->mail.body]);
	if (c->mail.smtputf8)
		sbuf_cat(out, " smtputf8");
	if (c->mail.ret != SMTPD_RET_NONE)
		sbuf_printf(out, " ret=%s", rets[c->mail.ret]);
	if (c->mail.envid != NULL)
		sbuf_printf(out, " envid=%s", c->mail.envid);
	if (c->mail.auth != NULL)
		sbuf_printf(out, " auth=%s", c->mail.auth);
	if (c->rcpt.notify != 0) {
		const char *sep = " notify=";

		for (int i = 0; i < 4; i++) {
			if (c->rcpt.notify & (1 << i)) {
				sbuf_printf(out, "%s%s", sep, notifies[i]);
				sep = ",";
			}
		}
	}
	if (c->rcpt.orcpt_type != NULL || c->rcpt.orcpt != NULL)
		sbuf_printf(out, " orcpt=%s;%s",
		    c->rcpt.orcpt_type ? c->rcpt.orcpt_type : "(null)",
		    c->rcpt.orcpt ? c->rcpt.orcpt : "(null)");
	if (c->verb == SMTPD_VERB_BDAT || c->bdat.size != 0)
		sbuf_printf(out, " count=%llu", c->bdat.size);
	if (c->bdat.last)
		sbuf_cat(out, " last");
	if (c->auth.mech != NULL)
		sbuf_printf(out, " mech=%s", c->auth.mech);
	if (c->auth.initial != NULL)
		sbuf_printf(out, " initial=%s", c->auth.initial);
}

/*
 * Parses a row's line; returns NULL when the outcome matches the row,
 * else a description of what came out (malloc'ed).
 */
static char *
run_case(const struct cmd_case *c)
{
	struct smtpd_cmd_error err = { .text = sbuf_new() };
	struct smtpd_cmd *cmd = NULL;
	struct sbuf *got = sbuf_new();
	enum smtpd_verb verb;
	char *bad = NULL;

	if (smtpd_cmd_parse(c->in, c->len, c->flags, &cmd, &err) == 0) {
		dump_cmd(cmd, got);
		verb = cmd->verb;
	} else {
		assert_null(cmd);
		sbuf_printf(got, "%d %s %s", err.code, err.status,
		    sbuf_str(err.text));
		verb = err.verb;
	}
	if (strcmp(sbuf_str(got), c->want) != 0 || verb != c->verb)
		bad = sbuf_steal(got);
	smtpd_cmd_free(&cmd);
	sbuf_free(&got);
	sbuf_free(&err.text);
	return bad;
}

static void
test_parse_table(void **state)
{
	size_t n = sizeof(cmd_cases) / sizeof(cmd_cases[0]), failed = 0;

	for (size_t i = 0; i < n; i++) {
		char *bad = run_case(&cmd_cases[i]);

		if (bad != NULL) {
			print_error("%s: got \"%s\" (verb %s), want \"%s\" "
			    "(verb %s)\n", cmd_cases[i].name, bad,
			    smtpd_verb_name(cmd_cases[i].verb),
			    cmd_cases[i].want,
			    smtpd_verb_name(cmd_cases[i].verb));
			free(bad);
			failed++;
		}
	}
	if (failed > 0)
		fail_msg("%zu of %zu rows failed", failed, n);
}

/* Every verb's name parses back to the verb, in any case. */
static void
test_verb_names(void **state)
{
	struct smtpd_cmd_error err = { .text = sbuf_new() };
	struct sbuf *line = sbuf_new();

	assert_string_equal(smtpd_verb_name(SMTPD_VERB_UNKNOWN), "UNKNOWN");
	for (int v = SMTPD_VERB_HELO; v <= SMTPD_VERB_AUTH; v++) {
		struct smtpd_cmd *cmd = NULL;

		sbuf_set(line, smtpd_verb_name(v));
		for (char *p = line->data; *p != '\0'; p++)
			*p = (char)(*p - 'A' + 'a');
		sbuf_cat(line, " x");
		smtpd_cmd_parse(sbuf_str(line), sbuf_len(line), 0, &cmd, &err);
		assert_int_equal(cmd != NULL ? (int)cmd->verb : (int)err.verb,
		    v);
		smtpd_cmd_free(&cmd);
	}
	sbuf_free(&line);
	sbuf_free(&err.text);
}

/*
 * Lines far longer than any reader allows: nothing assumes a bound, and
 * a reply never echoes more than a few dozen bytes of the line.
 */
static void
test_long_lines(void **state)
{
	struct smtpd_cmd_error err = { .text = sbuf_new() };
	struct sbuf *line = sbuf_new();
	struct smtpd_cmd *cmd = NULL;
	size_t big = 1024 * 1024;

	sbuf_cat(line, FROM);
	for (size_t i = 0; i < big; i++)
		sbuf_catc(line, 'K');
	assert_int_equal(smtpd_cmd_parse(sbuf_str(line), sbuf_len(line), ALL,
	    &cmd, &err), -1);
	assert_int_equal(err.code, 555);
	assert_true(sbuf_len(err.text) < 64);

	sbuf_set(line, FROM "SIZE=");
	for (size_t i = 0; i < big; i++)
		sbuf_catc(line, '9');
	assert_int_equal(smtpd_cmd_parse(sbuf_str(line), sbuf_len(line), ALL,
	    &cmd, &err), -1);
	assert_string_equal(sbuf_str(err.text), "Bad SIZE value");

	sbuf_set(line, "BDAT ");
	for (size_t i = 0; i < big; i++)
		sbuf_catc(line, '0');
	assert_int_equal(smtpd_cmd_parse(sbuf_str(line), sbuf_len(line), 0,
	    &cmd, &err), 0);
	assert_int_equal(cmd->bdat.size, 0);
	smtpd_cmd_free(&cmd);

	sbuf_set(line, "VRFY ");
	for (size_t i = 0; i < big; i++)
		sbuf_catc(line, 'v');
	assert_int_equal(smtpd_cmd_parse(sbuf_str(line), sbuf_len(line), 0,
	    &cmd, &err), 0);
	assert_int_equal(strlen(cmd->arg), big);
	smtpd_cmd_free(&cmd);

	sbuf_set(line, "MAIL FROM:<");
	for (size_t i = 0; i < big; i++)
		sbuf_catc(line, 'a');
	sbuf_cat(line, "@b.example>");
	assert_int_equal(smtpd_cmd_parse(sbuf_str(line), sbuf_len(line), 0,
	    &cmd, &err), -1);
	assert_string_equal(sbuf_str(err.text),
	    "Bad sender address syntax: local part too long");
	sbuf_free(&line);
	sbuf_free(&err.text);
}

/*
 * A NUL put at any position of a valid line fails it as a NUL, and a
 * bare CR as a control character: nothing is cut at either.
 */
static void
test_nul_anywhere(void **state)
{
	static const char good[] = "MAIL FROM:<a@b.example> SIZE=10 "
	    "BODY=8BITMIME RET=FULL ENVID=x+2By";
	struct smtpd_cmd_error err = { .text = sbuf_new() };
	char line[sizeof(good)];

	for (size_t i = 0; i < sizeof(good) - 1; i++) {
		struct smtpd_cmd *cmd = NULL;

		memcpy(line, good, sizeof(good));
		line[i] = '\0';
		assert_int_equal(smtpd_cmd_parse(line, sizeof(good) - 1, ALL,
		    &cmd, &err), -1);
		assert_int_equal(err.code, 500);
		assert_string_equal(sbuf_str(err.text),
		    "Syntax error, NUL byte in command");
		line[i] = '\r';
		assert_int_equal(smtpd_cmd_parse(line, sizeof(good) - 1, ALL,
		    &cmd, &err), -1);
		assert_string_equal(sbuf_str(err.text),
		    "Syntax error, control character in command");
		assert_null(cmd);
	}
	sbuf_free(&err.text);
}

/*
 * Every prefix of valid lines either parses or gets a reply of printable
 * ASCII with one of the documented codes; the whole line parses.
 */
static void
test_prefixes(void **state)
{
	static const char *const lines[] = {
		"MAIL FROM:<\"a b\"@[192.0.2.1]> SIZE=10 BODY=BINARYMIME "
		    "RET=HDRS ENVID=x+2By AUTH=<> SMTPUTF8",
		"RCPT TO:<@r.example:j\xc3\xb6@b.example> NOTIFY=SUCCESS,DELAY "
		    "ORCPT=utf-8;j\\x{F6}@b.example",
		"AUTH SCRAM-SHA-1 dGVzdAB0ZXN0AHRlc3Q=",
		"BDAT 123456 LAST",
		"EHLO [IPv6:2001:db8::1]",
	};
	struct smtpd_cmd_error err = { .text = sbuf_new() };

	for (size_t l = 0; l < sizeof(lines) / sizeof(lines[0]); l++) {
		size_t len = strlen(lines[l]);

		for (size_t n = 0; n <= len; n++) {
			struct smtpd_cmd *cmd = NULL;
			int rc = smtpd_cmd_parse(lines[l], n, ALL | TXN, &cmd,
			    &err);

			if (n == len && rc != 0)
				fail_msg("%s: %d %s %s", lines[l], err.code,
				    err.status, sbuf_str(err.text));
			if (rc == 0) {
				smtpd_cmd_free(&cmd);
				continue;
			}
			assert_true(err.code == 500 || err.code == 501 ||
			    err.code == 553 || err.code == 555);
			assert_int_equal(strlen(err.status), 5);
			assert_true(sbuf_len(err.text) > 0);
			for (const char *p = sbuf_str(err.text); *p; p++)
				assert_true(*p >= 0x20 && *p < 0x7f);
		}
	}
	sbuf_free(&err.text);
}

/* A failed parse leaves *cmd_r alone; a second error replaces the text. */
static void
test_error_contract(void **state)
{
	struct smtpd_cmd_error err = { .text = sbuf_new() };
	struct smtpd_cmd *cmd = (struct smtpd_cmd *)&err;

	assert_int_equal(smtpd_cmd_parse(BIN("MAIL FROM:<a@b.example> "
	    "SIZE=x"), SIZE, &cmd, &err), -1);
	assert_ptr_equal(cmd, &err);
	assert_int_equal(err.verb, SMTPD_VERB_MAIL);
	assert_string_equal(sbuf_str(err.text), "Bad SIZE value");
	assert_int_equal(smtpd_cmd_parse(BIN("XYZZY"), 0, &cmd, &err), -1);
	assert_int_equal(err.verb, SMTPD_VERB_UNKNOWN);
	assert_int_equal(err.code, 500);
	assert_string_equal(err.status, "5.5.2");
	assert_string_equal(sbuf_str(err.text),
	    "Syntax error, command unrecognized");
	sbuf_free(&err.text);
}

static void
test_free_null(void **state)
{
	struct smtpd_cmd *cmd = NULL;

	smtpd_cmd_free(&cmd);
	assert_null(cmd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_verb_names),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_nul_anywhere),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_error_contract),
		cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
