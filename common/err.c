#include "common/err.h"

const char *
err_str(int code)
{
	switch (code) {
	case ERR_OK: return "success";
	case ERR_SHORT: return "incomplete message";
	case ERR_PROTO: return "malformed message";
	case ERR_NOSPACE: return "buffer too small";
	case ERR_NOMEM: return "out of memory";
	case ERR_SYS: return "system error";
	case ERR_TIMEOUT: return "timed out";
	case ERR_EOF: return "connection closed by peer";
	case ERR_CONFIG: return "configuration error";
	case ERR_DENIED: return "denied";
	case ERR_RANGE: return "value out of range";
	case ERR_UNSUPPORTED: return "not supported";
	}
	return "unknown error";
}
