package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/billing"
	"github.com/rendezvous-go/rendezvous/matchmaking"
	"github.com/rendezvous-go/rendezvous/moderation"
	"github.com/rendezvous-go/rendezvous/optin"
	"github.com/rendezvous-go/rendezvous/session"
	"github.com/rendezvous-go/rendezvous/session/agora"
)

// dating is the core loop of the dating product: the queue, the video
// sessions and the double opt-in.
type dating struct {
	queue    *matchmaking.Service
	sessions *session.Service
	choices  *optin.Service
	// mod is set once moderation is built (social.go): it bans, and
	// watches the calls.
	mod *moderation.Service
}

// checkBan is the gate of the queue and of the call namespaces.
func (d *dating) checkBan(ctx context.Context, userID string) error {
	if d.mod == nil {
		return nil
	}
	return d.mod.CheckBan(ctx, userID)
}

// newDating wires the loop's hand-offs, each durable:
//   - the queue debits and refunds through the wallet, keyed per stay in
//     the queue (a saga whose sweep runs in every tick);
//   - a popped pair starts its session (OnPair, re-driven after a lease if
//     an instance dies first);
//   - a session's end job opens the choice window and schedules its
//     auto-pass (OnEnded), or refunds both when no call took place;
//   - users in a live session or an open choice window cannot queue, nor
//     can banned users (moderation, social.go).
func newDating(cfg config, st *stores, wallet *billing.Service, sched *rv.Scheduler, log *slog.Logger) (*dating, error) {
	refund := func(ctx context.Context, key string) error {
		_, _, err := wallet.Refund(ctx, key)
		if errors.Is(err, billing.ErrDebitNotFound) {
			return nil
		}
		return err
	}
	issuer, err := videoIssuer(cfg, log)
	if err != nil {
		return nil, err
	}
	d := &dating{}
	d.sessions, err = session.New(session.Config{
		Store:     st.sessions,
		Scheduler: sched,
		Issuer:    issuer,
		Notifier:  st.broker,
		Refund:    refund,
		OnLiveChange: func(delta int, reason session.EndReason) {
			st.metrics.ObserveSession(delta, string(reason))
		},
		OnStarted: func(ctx context.Context, s session.Session) {
			if d.mod == nil || cfg.HiveStreamURL == "" {
				return // nothing to submit to
			}
			// Never delays the call: the submission runs on its own.
			go func() {
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), submitTimeout)
				defer cancel()
				st.metrics.ObserveSubmission(d.mod.SubmitCall(ctx, s.ID, session.ChannelName(s.ID)))
			}()
		},
		OnEnded: func(ctx context.Context, s session.Session) error {
			users := [2]string{s.Participants[0].UserID, s.Participants[1].UserID}
			return d.choices.OpenWindow(ctx, s.ID, users, s.EndedAt)
		},
		Duration: cfg.SessionDuration,
		TokenTTL: cfg.AgoraTokenTTL,
		Logger:   log,
	})
	if err != nil {
		return nil, err
	}
	d.choices, err = optin.New(optin.Config{
		Store:     st.choices,
		Scheduler: sched,
		Session: func(ctx context.Context, id string) (optin.SessionInfo, error) {
			s, err := d.sessions.Lookup(ctx, id)
			if err != nil {
				return optin.SessionInfo{}, err
			}
			return optin.SessionInfo{
				Users:         [2]string{s.Participants[0].UserID, s.Participants[1].UserID},
				Ended:         !s.Live(),
				EndedAt:       s.EndedAt,
				ChoiceOffered: s.EndReason.OffersChoice(),
			}, nil
		},
		Notifier: st.broker,
		Window:   cfg.OptinWindow,
		Logger:   log,
	})
	if err != nil {
		return nil, err
	}
	d.queue, err = matchmaking.New(matchmaking.Config{
		Store: st.queue,
		Debit: func(ctx context.Context, userID, key string) error {
			_, err := wallet.Debit(ctx, userID, key)
			return err
		},
		Refund: refund,
		Gate:   d.checkBan,
		OnTick: st.metrics.ObserveTick,
		Busy: func(ctx context.Context, userID string) (string, bool, error) {
			if id, busy, err := d.sessions.Busy(ctx, userID); err != nil || busy {
				return id, busy, err
			}
			return d.choices.Busy(ctx, userID)
		},
		OnPair: func(ctx context.Context, p matchmaking.Pair) error {
			region, _, _ := strings.Cut(p.QueueKey, ":")
			_, err := d.sessions.Start(ctx, session.StartRequest{
				SessionID: p.SessionID,
				QueueKey:  p.QueueKey,
				Region:    region,
				Users: [2]session.StartUser{
					{UserID: p.Members[0].UserID, DebitKey: p.Members[0].DebitKey},
					{UserID: p.Members[1].UserID, DebitKey: p.Members[1].DebitKey},
				},
				MatchedAt: p.MatchedAt,
			})
			return err
		},
		Notifier:        st.broker,
		Scheduler:       sched,
		Logger:          log,
		TickInterval:    cfg.QueueTick,
		DisconnectGrace: cfg.QueueDisconnectGrace,
		PresenceTTL:     cfg.PresenceTTL,
	})
	if err != nil {
		return nil, err
	}
	sched.Handle(matchmaking.GraceJobKind, d.queue.HandleGrace)
	sched.Handle(matchmaking.RefundJobKind, d.queue.HandleRefund)
	sched.Handle(session.EndJobKind, d.sessions.HandleEnd)
	sched.Handle(optin.AutoPassJobKind, d.choices.HandleAutoPass)
	return d, nil
}

// videoIssuer is Agora AccessToken2 with AGORA_APP_ID and
// AGORA_APP_CERTIFICATE, or none in development (config refuses that in
// production).
func videoIssuer(cfg config, log *slog.Logger) (session.VideoTokenIssuer, error) {
	if cfg.AgoraAppID == "" {
		log.Warn("video: AGORA_APP_ID and AGORA_APP_CERTIFICATE are not set: session:start carries null rtc and rtm (development only)")
		return nil, nil
	}
	iss, err := agora.New(agora.Config{AppID: cfg.AgoraAppID, AppCertificate: cfg.AgoraAppCertificate})
	if err != nil {
		return nil, fmt.Errorf("agora: %w", err)
	}
	log.Info("video: agora", "tokenTTL", cfg.AgoraTokenTTL.String())
	return iss, nil
}
