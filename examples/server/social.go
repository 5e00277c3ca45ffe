package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/chat"
	"github.com/rendezvous-go/rendezvous/moderation"
	"github.com/rendezvous-go/rendezvous/moderation/hive"
	"github.com/rendezvous-go/rendezvous/session"
	"github.com/rendezvous-go/rendezvous/session/agora"
)

// submitTimeout bounds a call's submission to the moderation service
// (hive.Client has its own 2 s per request, and the fallback after it).
const submitTimeout = 5 * time.Second

// newChat builds the chat over the matches the opt-in makes, with the
// accounts' anonymous profiles for the partners.
func newChat(cfg config, st *stores, accounts *auth.Service, log *slog.Logger) (*chat.Service, error) {
	return chat.New(chat.Config{
		Store: st.chat,
		Profiles: func(ctx context.Context, ids []string) (map[string]chat.Partner, error) {
			out := make(map[string]chat.Partner, len(ids))
			for _, id := range ids {
				u, err := accounts.Me(ctx, id)
				if errors.Is(err, auth.ErrUserNotFound) {
					continue // a deleted account
				}
				if err != nil {
					return nil, err
				}
				p := u.Public()
				out[id] = chat.Partner{ID: p.ID, DisplayName: p.DisplayName, Bio: p.Bio, Age: p.Age, Gender: p.Gender, Interests: p.Interests, PhotoURLs: p.PhotoURLs}
			}
			return out, nil
		},
		Notifier:     st.broker,
		Limiter:      st.limiter,
		MessageRate:  cfg.ChatMessageRate,
		MessageBurst: cfg.ChatMessageBurst,
		Logger:       log,
	})
}

// newModeration builds the moderation of calls: Hive's webhooks end the
// offending call, force the offender's PASS, log the violation and ban
// repeat offenders, who are kept out of the queue (matchmaking's Gate) and
// of /queue and /video (the transport's gates).
func newModeration(cfg config, st *stores, d *dating, sched *rv.Scheduler, log *slog.Logger) (*moderation.Service, error) {
	mc := moderation.Config{
		Events:        st.modEvents,
		Bans:          st.bans,
		Scheduler:     sched,
		WebhookSecret: cfg.HiveWebhookSecret,
		Session: func(ctx context.Context, id string) (moderation.SessionInfo, error) {
			s, err := d.sessions.Lookup(ctx, id)
			if err != nil {
				return moderation.SessionInfo{}, err
			}
			return moderation.SessionInfo{Users: [2]string{s.Participants[0].UserID, s.Participants[1].UserID}, Live: s.Live()}, nil
		},
		EndSession: func(ctx context.Context, id string) error {
			_, err := d.sessions.Terminate(ctx, id, session.ReasonModeration)
			return err
		},
		ForcePass: d.choices.ForcePass,
		LeaveQueue: func(ctx context.Context, userID string) error {
			_, err := d.queue.Leave(ctx, userID)
			return err
		},
		Notifier:     st.broker,
		Logger:       log,
		BanThreshold: cfg.ModerationBanThreshold,
		Window:       cfg.ModerationWindow,
		BanDuration:  cfg.ModerationBanDuration,
	}
	if cfg.HiveWebhookSecret == "" {
		log.Info("moderation: HIVE_WEBHOOK_SECRET is not set: POST /webhooks/hive answers 503 MODERATION_UNAVAILABLE")
	}
	if cfg.HiveStreamURL != "" {
		c, err := hive.New(hive.Config{StreamURL: cfg.HiveStreamURL, ScreenshotURL: cfg.HiveScreenshotURL, APIKey: cfg.HiveAPIKey})
		if err != nil {
			return nil, fmt.Errorf("hive: %w", err)
		}
		mc.Submitter = c
		mc.BotIdentity = func(_ context.Context, channel string) (string, uint32, string, error) {
			uid := botUID()
			ttl := uint32(cfg.SessionDuration/time.Second) + uint32(cfg.AgoraTokenTTL/time.Second)
			token, err := agora.BuildRTCTokenWithUID(cfg.AgoraAppID, cfg.AgoraAppCertificate, channel, uid, agora.RoleSubscriber, ttl, ttl)
			return cfg.AgoraAppID, uid, token, err
		}
		log.Info("moderation: calls are submitted to Hive", "fallback", cfg.HiveScreenshotURL != "")
	} else {
		log.Info("moderation: HIVE_STREAM_URL is not set: calls are not submitted for monitoring")
	}
	m, err := moderation.New(mc)
	if err != nil {
		return nil, err
	}
	sched.Handle(moderation.ApplyJobKind, m.HandleApply)
	return m, nil
}

// botUID is a random non-zero uid for the moderation bot, which the
// participants' random uids are very unlikely to meet.
func botUID() uint32 {
	var b [4]byte
	for {
		_, _ = rand.Read(b[:])
		if uid := binary.BigEndian.Uint32(b[:]); uid != 0 {
			return uid
		}
	}
}
