package kv

// readOnly lists commands that never change the data set. The REST
// transport may resend them after a failure that happened once the request
// could have reached the server (timeout, dropped connection, 5xx); any
// other command is resent only when it provably was not sent (dial
// failure). A missing entry only costs a retry, so the list is short and
// certain rather than complete: GETEX, GETDEL, SORT (STORE) and the like
// are writes and are not here.
var readOnly = map[string]bool{
	"GET": true, "MGET": true, "STRLEN": true, "GETRANGE": true,
	"EXISTS": true, "TTL": true, "PTTL": true, "EXPIRETIME": true, "PEXPIRETIME": true, "TYPE": true,
	"HGET": true, "HMGET": true, "HGETALL": true, "HEXISTS": true, "HLEN": true,
	"HKEYS": true, "HVALS": true, "HSCAN": true, "HSTRLEN": true,
	"ZRANGE": true, "ZRANGEBYSCORE": true, "ZREVRANGE": true, "ZREVRANGEBYSCORE": true,
	"ZRANGEBYLEX": true, "ZSCORE": true, "ZMSCORE": true, "ZCARD": true, "ZCOUNT": true,
	"ZRANK": true, "ZREVRANK": true, "ZSCAN": true,
	"SMEMBERS": true, "SISMEMBER": true, "SMISMEMBER": true, "SCARD": true, "SSCAN": true,
	"LRANGE": true, "LLEN": true, "LINDEX": true,
	"XRANGE": true, "XREVRANGE": true, "XLEN": true,
	"SCAN": true, "DBSIZE": true, "PING": true, "ECHO": true, "TIME": true,
	"EVAL_RO": true, "EVALSHA_RO": true,
}

func isReadOnly(args []string) bool { return readOnly[cmdName(args)] }
