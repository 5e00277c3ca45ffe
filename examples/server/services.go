package main

import (
	"context"
	"fmt"
	"log/slog"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/billing"
	billingstripe "github.com/rendezvous-go/rendezvous/billing/stripe"
	"github.com/rendezvous-go/rendezvous/chat"
	"github.com/rendezvous-go/rendezvous/moderation"
	"github.com/rendezvous-go/rendezvous/rooms"
)

// services are the features, wired to their stores and to each other.
type services struct {
	accounts *auth.Service
	wallet   *billing.Service
	rooms    *rooms.Service
	dating   *dating
	chat     *chat.Service
	mod      *moderation.Service
}

// newServices builds every feature on st. The hand-offs between features
// (the pipeline callbacks) are wired here and nowhere else:
//   - a new account gets the wallet's sign-up bonus (auth.Config.OnSignup);
//   - rooms schedule their expiry on the durable scheduler, whose handler
//     is the rooms service's;
//   - the dating loop (queue → session → choice) is wired in dating.go,
//     chat and moderation in social.go.
func (a *app) newServices(st *stores) (*services, error) {
	cfg, log := a.cfg, a.log
	wallet, err := newWallet(cfg, st.wallets, log)
	if err != nil {
		return nil, err
	}
	accounts, err := newAccounts(cfg, st, log, func(ctx context.Context, u auth.User) error {
		return wallet.GrantSignupBonus(ctx, u.ID)
	})
	if err != nil {
		return nil, err
	}
	// One scheduler per instance, all over the same job store: room expiry
	// is its first job.
	if a.sched, err = rv.NewScheduler(rv.SchedulerConfig{Store: st.jobs, Logger: log, OnClaim: st.metrics.ObserveJob}); err != nil {
		return nil, err
	}
	roomSvc, err := newRooms(cfg, st, log, a.sched)
	if err != nil {
		return nil, err
	}
	a.sched.Handle(rooms.ExpireJobKind, roomSvc.HandleExpiry)
	d, err := newDating(cfg, st, wallet, a.sched, log)
	if err != nil {
		return nil, err
	}
	a.queue = d.queue
	if d.mod, err = newModeration(cfg, st, d, a.sched, log); err != nil {
		return nil, err
	}
	chatSvc, err := newChat(cfg, st, accounts, log)
	if err != nil {
		return nil, err
	}
	return &services{accounts: accounts, wallet: wallet, rooms: roomSvc, dating: d, chat: chatSvc, mod: d.mod}, nil
}

// newAccounts builds accounts. Codes go to the log outside production: the
// reference server has no SMS or email provider.
func newAccounts(cfg config, st *stores, log *slog.Logger, onSignup func(context.Context, auth.User) error) (*auth.Service, error) {
	var sender auth.CodeSender
	if !cfg.Production {
		sender = auth.LogSender{Logger: log}
		log.Warn("no SMS or email provider: verification codes are written to this log (development only)")
	} else {
		log.Warn("no SMS or email provider is configured: verification and sign-in codes answer 503 VERIFICATION_UNAVAILABLE")
	}
	return auth.New(auth.Config{
		OnSignup:     onSignup,
		Store:        st.authStore,
		Cutoffs:      st.cutoffs,
		Limiter:      st.limiter,
		Sender:       sender,
		Secret:       cfg.JWTSecret,
		Production:   cfg.Production,
		RefreshGrace: cfg.RefreshGrace,
		Logger:       log,
	})
}

// newRooms builds the rooms service with its connection tokens.
func newRooms(cfg config, st *stores, log *slog.Logger, sched rooms.Scheduler) (*rooms.Service, error) {
	tokens, err := auth.NewRoomTokens(auth.RoomTokenConfig{Secret: cfg.JWTSecret, TTL: cfg.RoomTTL})
	if err != nil {
		return nil, err
	}
	return rooms.New(rooms.Config{
		Scheduler:        sched,
		Store:            st.rooms,
		Tokens:           tokens,
		Notifier:         st.broker,
		Logger:           log,
		CodeAlphabet:     cfg.RoomCodeAlphabet,
		CodeLength:       cfg.RoomCodeLength,
		MaxUsers:         cfg.RoomMaxUsers,
		TTL:              cfg.RoomTTL,
		PresenceTTL:      cfg.PresenceTTL,
		DisplayNameMin:   cfg.DisplayNameMin,
		DisplayNameMax:   cfg.DisplayNameMax,
		CloseOnHostLeave: cfg.RoomCloseOnHostLeave,
	})
}

// newWallet builds the token wallet, with Stripe Checkout when
// STRIPE_SECRET_KEY is set.
func newWallet(cfg config, store billing.Store, log *slog.Logger) (*billing.Service, error) {
	packs := make([]billing.Pack, len(cfg.Packs))
	for i, p := range cfg.Packs {
		packs[i] = billing.Pack{ID: p.ID, Tokens: p.Tokens, PriceID: p.PriceID}
		if p.PriceID == "" && p.Amount > 0 {
			packs[i].Amount, packs[i].Currency = p.Amount, cfg.PackCurrency
		}
	}
	bc := billing.Config{
		Store:       store,
		Packs:       packs,
		SuccessURL:  cfg.StripeSuccessURL,
		CancelURL:   cfg.StripeCancelURL,
		SignupBonus: cfg.SignupBonusTokens,
		Logger:      log,
	}
	if cfg.StripeSecretKey != "" {
		p, err := billingstripe.New(billingstripe.Config{
			SecretKey:     cfg.StripeSecretKey,
			WebhookSecret: cfg.StripeWebhookSecret,
			APIBase:       cfg.StripeAPIBase,
			Logger:        log,
		})
		if err != nil {
			return nil, fmt.Errorf("stripe: %w", err)
		}
		bc.Payments = p
		log.Info("payments: stripe", "apiBase", cfg.StripeAPIBase)
	} else {
		log.Info("payments: none (set STRIPE_SECRET_KEY to sell token packs); purchases answer 503 PAYMENTS_UNAVAILABLE")
	}
	return billing.New(bc)
}
