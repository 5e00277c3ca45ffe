package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/store/redis"
	"github.com/rendezvous-go/rendezvous/store/storetest"
)

func TestBanStoreMiniredis(t *testing.T) {
	storetest.RunModeration(t, nil, func(t *testing.T) storetest.BanHarness {
		mr := miniredis.RunT(t)
		client := goredis.NewClient(&goredis.Options{Addr: mr.Addr()})
		t.Cleanup(func() { _ = client.Close() })
		return storetest.BanHarness{Store: redis.NewBanStore(client, "test:"), Advance: mr.FastForward}
	})
}

func TestBanStoreRedis(t *testing.T) {
	testenv.RedisURL(t) // skip early when there is no Redis
	storetest.RunModeration(t, nil, func(t *testing.T) storetest.BanHarness {
		client, prefix := testenv.Redis(t)
		return storetest.BanHarness{Store: redis.NewBanStore(client, prefix)}
	})
}

func TestBanStoreKeyLayout(t *testing.T) {
	ctx := context.Background()
	mr := miniredis.RunT(t)
	client := goredis.NewClient(&goredis.Options{Addr: mr.Addr()})
	defer client.Close()
	s := redis.NewBanStore(client, "app:")
	now := time.UnixMilli(1_700_000_000_000)
	until := now.Add(24 * time.Hour)
	if _, created, err := s.Ban(ctx, "u1", until, now); err != nil || !created {
		t.Fatalf("Ban = %v, %v", created, err)
	}
	if v, err := mr.Get("app:ban:{u1}"); err != nil || v != "1700086400000" {
		t.Errorf("key app:ban:{u1} = %q, %v; want the until in Unix milliseconds", v, err)
	}
	if ttl := mr.TTL("app:ban:{u1}"); ttl != 24*time.Hour {
		t.Errorf("ban TTL = %v, want 24h", ttl)
	}
	if first, err := s.SeeDelivery(ctx, "abc", 10*time.Minute); err != nil || !first {
		t.Fatalf("SeeDelivery = %v, %v", first, err)
	}
	if ttl := mr.TTL("app:hive:delivery:abc"); ttl != 10*time.Minute {
		t.Errorf("delivery TTL = %v, want 10m", ttl)
	}
	// Redis drops the ban's key at until.
	mr.FastForward(24 * time.Hour)
	if mr.Exists("app:ban:{u1}") {
		t.Error("the ban's key outlived its until")
	}
	_ = mr.Set("app:ban:{u2}", "garbage")
	if _, _, err := s.Get(ctx, "u2", now); err == nil {
		t.Error("a malformed ban was accepted")
	}
}
