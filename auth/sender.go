package auth

import (
	"context"
	"log/slog"
)

// CodeSender delivers one-time verification codes: by SMS for ChannelPhone,
// by mail for ChannelEmail. to is the normalised identifier (E.164 phone
// number, lower-cased email address). An error makes the Service answer
// ErrVerificationUnavailable.
type CodeSender interface {
	SendCode(ctx context.Context, ch Channel, to, code string) error
}

// CodeSenderFunc adapts a function to the CodeSender interface.
type CodeSenderFunc func(ctx context.Context, ch Channel, to, code string) error

// SendCode calls f.
func (f CodeSenderFunc) SendCode(ctx context.Context, ch Channel, to, code string) error {
	return f(ctx, ch, to, code)
}

// LogSender is a CodeSender for local development: it writes the channel,
// the destination and the code to Logger at Warn level instead of sending
// anything. It must never be used in production, where it would put every
// code in the logs; New refuses it when Config.Production is set.
type LogSender struct {
	// Logger receives the codes. Default slog.Default().
	Logger *slog.Logger
}

// SendCode logs the code and returns nil.
func (s LogSender) SendCode(ctx context.Context, ch Channel, to, code string) error {
	logger := s.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.WarnContext(ctx, "rendezvous: verification code (development sender, never use in production)",
		slog.String("channel", string(ch)), slog.String("to", to), slog.String("code", code))
	return nil
}
