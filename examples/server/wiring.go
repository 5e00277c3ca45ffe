package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/rendezvous-go/rendezvous/metrics"
	"github.com/rendezvous-go/rendezvous/transport"
)

// newApp assembles the product: stores (stores.go), services and their
// hand-offs (services.go), then the transport. Every resource it opens is
// pushed on a.closers; one deferred call releases them all if a later step
// fails.
func newApp(ctx context.Context, cfg config, log *slog.Logger) (_ *app, err error) {
	a := &app{cfg: cfg, log: log}
	if cfg.Metrics {
		a.metrics = metrics.New()
	}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	if cfg.JWTSecretGenerated {
		log.Warn("JWT_SECRET is not set: using a random secret; tokens will not survive a restart nor work across instances")
	}
	if cfg.Production && slices.Contains(cfg.CORSOrigins, "*") {
		log.Warn("CORS_ORIGINS is \"*\" in production: any web site may call the API from its visitors' browsers")
	}
	st := stores{metrics: a.metrics}
	if err = a.ephemeral(ctx, &st); err != nil {
		return nil, err
	}
	st.broker = instrumentBroker(st.broker, a.metrics)
	if err = a.durable(ctx, &st); err != nil {
		return nil, err
	}
	svc, err := a.newServices(&st)
	if err != nil {
		return nil, err
	}
	a.accounts = svc.accounts
	if a.transport, err = newTransport(cfg, &st, svc, log); err != nil {
		return nil, err
	}
	if err = a.transport.Start(ctx); err != nil {
		return nil, fmt.Errorf("event subscription: %w", err)
	}
	return a, nil
}

// newTransport serves every feature's module over REST and Socket.IO.
func newTransport(cfg config, st *stores, svc *services, log *slog.Logger) (*transport.Transport, error) {
	return transport.New(transport.Config{
		Modules: []transport.Module{
			transport.RoomsModule(transport.RoomsConfig{Service: svc.rooms}),
			transport.AccountsModule(transport.AccountsConfig{Service: svc.accounts, SecureCookies: cfg.CookieSecure}),
			transport.BillingModule(transport.BillingConfig{Service: svc.wallet, Authenticator: svc.accounts}),
			transport.QueueModule(transport.QueueConfig{Service: svc.dating.queue, Authenticator: svc.accounts, Gate: svc.mod.CheckBan}),
			transport.SessionModule(transport.SessionConfig{Service: svc.dating.sessions, Authenticator: svc.accounts, Gate: svc.mod.CheckBan}),
			transport.OptinModule(transport.OptinConfig{Service: svc.dating.choices, Authenticator: svc.accounts}),
			transport.ChatModule(transport.ChatConfig{Service: svc.chat, Authenticator: svc.accounts}),
			transport.ModerationModule(transport.ModerationConfig{Service: svc.mod, AdminToken: cfg.AdminToken}),
			webAppModule{},
			apiDocsModule{},
		},
		Broker:            st.broker,
		Prefix:            cfg.APIPrefix,
		Limiter:           st.limiter,
		ThrottleLimit:     cfg.ThrottleLimit,
		ThrottleWindow:    cfg.ThrottleTTL,
		TrustProxy:        cfg.TrustProxy,
		TrustedProxies:    cfg.TrustedProxies,
		ConnectRate:       cfg.SocketConnectRate,
		MaxSocketsPerUser: cfg.RoomMaxSocketsPerUser,
		EventRate:         cfg.SocketEventRate,
		EventBurst:        cfg.SocketEventBurst,
		CORSOrigins:       cfg.CORSOrigins,
		Ready:             readiness(st.pings),
		PingInterval:      time.Duration(cfg.SocketIOPingIntervalMS) * time.Millisecond,
		PingTimeout:       time.Duration(cfg.SocketIOPingTimeoutMS) * time.Millisecond,
		ConnectTimeout:    cfg.SocketIOConnectTimeout,
		Logger:            log,
		AccessLog:         true,
		Metrics:           st.metrics,
	})
}
