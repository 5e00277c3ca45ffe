package redis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	rv "github.com/rendezvous-go/rendezvous"
)

type reply string

func (e reply) Error() string { return string(e) }
func (reply) RedisError()     {}

// storeError tells the failures of a Redis that cannot serve from the
// replies of one that does.
func TestStoreErrorClassification(t *testing.T) {
	for _, c := range []struct {
		err         error
		unavailable bool
	}{
		{reply("LOADING Redis is loading the dataset in memory"), true},
		{reply("MASTERDOWN Link with MASTER is down"), true},
		{reply("CLUSTERDOWN The cluster is down"), true},
		{reply("TRYAGAIN Multiple keys request during rehashing of slot"), true},
		{reply("READONLY You can't write against a read only replica."), true},
		{reply("BUSY Redis is busy running a script."), true},
		{reply("ERR max number of clients reached"), true},
		{ErrCircuitOpen, true},
		{goredis.ErrClosed, true},
		{goredis.ErrPoolTimeout, true},
		{context.DeadlineExceeded, true},
		{io.EOF, true},
		{reply("BUSYGROUP Consumer Group name already exists"), false},
		{reply("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{reply("ERR user_script:1: boom"), false},
		{context.Canceled, false},
		{errors.New("redis: malformed reply"), false},
	} {
		err := storeError("op", fmt.Errorf("wrapped: %w", c.err))
		if got := errors.Is(err, rv.ErrStoreUnavailable); got != c.unavailable {
			t.Errorf("%v: unavailable = %v, want %v", c.err, got, c.unavailable)
		}
		if !errors.Is(err, c.err) {
			t.Errorf("%v: the cause is lost in %v", c.err, err)
		}
	}
}
