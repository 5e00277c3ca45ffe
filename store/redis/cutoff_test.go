package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/store/redis"
	"github.com/rendezvous-go/rendezvous/store/storetest"
)

func TestCutoffStoreMiniredis(t *testing.T) {
	storetest.RunCutoffs(t, func(t *testing.T) (auth.CutoffStore, func(time.Duration)) {
		mr := miniredis.RunT(t)
		client := goredis.NewClient(&goredis.Options{Addr: mr.Addr()})
		t.Cleanup(func() { _ = client.Close() })
		return redis.NewCutoffStore(client, "test:"), mr.FastForward
	})
}

func TestCutoffStoreRedis(t *testing.T) {
	testenv.RedisURL(t) // skip early when there is no Redis
	storetest.RunCutoffs(t, func(t *testing.T) (auth.CutoffStore, func(time.Duration)) {
		client, prefix := testenv.Redis(t)
		return redis.NewCutoffStore(client, prefix), nil
	})
}

func TestCutoffStoreKeyLayout(t *testing.T) {
	ctx := context.Background()
	mr := miniredis.RunT(t)
	client := goredis.NewClient(&goredis.Options{Addr: mr.Addr()})
	defer client.Close()
	s := redis.NewCutoffStore(client, "app:")
	at := time.UnixMilli(1_700_000_000_123)
	if err := s.SetCutoff(ctx, "u1", at, 15*time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, err := mr.Get("app:auth:cutoff:u1"); err != nil || v != "1700000000123" {
		t.Errorf("key app:auth:cutoff:u1 = %q, %v; want the Unix milliseconds", v, err)
	}
	if ttl := mr.TTL("app:auth:cutoff:u1"); ttl != 15*time.Minute {
		t.Errorf("TTL = %v, want 15m", ttl)
	}
	// An earlier cut-off keeps the later one and never shortens the TTL.
	mr.FastForward(5 * time.Minute)
	if err := s.SetCutoff(ctx, "u1", at.Add(-time.Second), time.Minute); err != nil {
		t.Fatal(err)
	}
	if ttl := mr.TTL("app:auth:cutoff:u1"); ttl != 10*time.Minute {
		t.Errorf("TTL after an earlier, shorter cut-off = %v, want 10m left", ttl)
	}
	if err := s.SetCutoff(ctx, "u1", at.Add(-time.Second), 15*time.Minute); err != nil {
		t.Fatal(err)
	}
	if ttl := mr.TTL("app:auth:cutoff:u1"); ttl != 15*time.Minute {
		t.Errorf("TTL after an earlier, longer cut-off = %v, want 15m", ttl)
	}
	if c, err := s.Cutoff(ctx, "u1"); err != nil || !c.Equal(at) {
		t.Errorf("Cutoff = %v, %v; want %v", c, err, at)
	}
	if err := s.SetCutoff(ctx, "u1", at, 0); err == nil {
		t.Error("SetCutoff with a zero TTL succeeded")
	}
}

func TestCutoffStoreMalformedValue(t *testing.T) {
	mr := miniredis.RunT(t)
	client := goredis.NewClient(&goredis.Options{Addr: mr.Addr()})
	defer client.Close()
	_ = mr.Set("rv:auth:cutoff:u1", "garbage")
	if _, err := redis.NewCutoffStore(client, "").Cutoff(context.Background(), "u1"); err == nil {
		t.Error("a malformed cut-off was accepted")
	}
}
