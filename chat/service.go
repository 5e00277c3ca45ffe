package chat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/uuid"
)

// Service is the chat of matched users: their matches with the partner's
// profile, the history of a match, sending with real-time delivery, and
// unmatching. It is safe for concurrent use, and any number of Services on
// any number of processes may share a Store.
type Service struct {
	cfg    Config
	window time.Duration // the rate limiter's window
}

// New validates cfg, fills in defaults and returns a Service.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("chat: Config.Store is required")
	case cfg.Profiles == nil:
		return nil, errors.New("chat: Config.Profiles is required")
	case cfg.MessageRate < 0 || math.IsNaN(cfg.MessageRate) || math.IsInf(cfg.MessageRate, 0):
		return nil, errors.New("chat: Config.MessageRate must be a positive number")
	case cfg.MessageBurst < 0:
		return nil, errors.New("chat: Config.MessageBurst must not be negative")
	}
	if cfg.Notifier == nil {
		cfg.Notifier = rv.DiscardNotifier
	}
	if cfg.Clock == nil {
		cfg.Clock = rv.SystemClock
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MessageRate == 0 {
		cfg.MessageRate = 5
	}
	if cfg.MessageBurst == 0 {
		cfg.MessageBurst = 20
	}
	window := time.Duration(float64(cfg.MessageBurst) / cfg.MessageRate * float64(time.Second))
	if window < time.Millisecond {
		return nil, errors.New("chat: Config.MessageBurst / Config.MessageRate must be at least a millisecond")
	}
	return &Service{cfg: cfg, window: window}, nil
}

// Config returns the configuration in force, defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// now is the time of a new message, to the microsecond as the Postgres
// store keeps it.
func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC().Truncate(time.Microsecond) }

// RateLimitError is the error of a Send over the user's rate: it wraps
// ErrRateLimited (so errors.Is, rendezvous.AsError and rendezvous.CodeOf
// see through it) and tells when to try again. Transports read the delay
// with errors.As into an interface{ RetryAfter() time.Duration } and
// answer 429 with a Retry-After header.
type RateLimitError struct {
	// Err is the error that reaches clients.
	Err *rv.Error
	// After is the time to wait before trying again.
	After time.Duration
}

// Error implements the error interface.
func (e *RateLimitError) Error() string { return fmt.Sprintf("%v (retry after %v)", e.Err, e.After) }

// Unwrap returns the *rendezvous.Error.
func (e *RateLimitError) Unwrap() error { return e.Err }

// RetryAfter returns the time to wait before trying again.
func (e *RateLimitError) RetryAfter() time.Duration { return e.After }

// participant returns the live match id of userID: ErrMatchNotFound when
// there is none, ErrNotAParticipant when userID is not one of its users.
func (s *Service) participant(ctx context.Context, userID, matchID string) (Match, error) {
	m, err := s.cfg.Store.Match(ctx, matchID)
	if err != nil {
		return Match{}, err
	}
	if m.Users[0] != userID && m.Users[1] != userID {
		return Match{}, ErrNotAParticipant
	}
	return m, nil
}

func partnerOf(m Match, userID string) string {
	if m.Users[0] == userID {
		return m.Users[1]
	}
	return m.Users[0]
}

// partner returns the profile of id as the matches list shows it: Deleted
// with an empty profile when the account is gone; never nil slices.
func partner(profiles map[string]Partner, id string) Partner {
	p, ok := profiles[id]
	if !ok {
		p = Partner{Deleted: true}
	}
	p.ID = id
	if p.Interests == nil {
		p.Interests = []string{}
	}
	if p.PhotoURLs == nil {
		p.PhotoURLs = []string{}
	}
	return p
}

// Matches returns a page of userID's live matches, newest activity first,
// each with its last message and the partner's anonymous profile (a
// deleted account shows as Deleted). cursor is "" for the first page or
// the NextCursor of the previous one; limit is the page size, 0 for
// DefaultMatchLimit. Errors: ErrInvalidLimit for a limit below 0 or above
// MaxMatchLimit, ErrInvalidCursor for a cursor the Service did not make.
func (s *Service) Matches(ctx context.Context, userID, cursor string, limit int) (MatchPage, error) {
	switch {
	case limit == 0:
		limit = DefaultMatchLimit
	case limit < 0 || limit > MaxMatchLimit:
		return MatchPage{}, ErrInvalidLimit.WithMessage("limit must be between 1 and %d", MaxMatchLimit)
	}
	after, err := decodeMatchCursor(cursor)
	if err != nil {
		return MatchPage{}, err
	}
	ms, err := s.cfg.Store.Matches(ctx, userID, after, limit+1)
	if err != nil {
		return MatchPage{}, err
	}
	page := MatchPage{Matches: make([]MatchView, 0, min(len(ms), limit))}
	if len(ms) > limit {
		ms = ms[:limit]
		last := ms[limit-1]
		page.NextCursor = encodeMatchCursor(MatchCursor{LastActivity: last.LastActivity, ID: last.ID})
	}
	if len(ms) == 0 {
		return page, nil
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = partnerOf(m, userID)
	}
	profiles, err := s.cfg.Profiles(ctx, ids)
	if err != nil {
		return MatchPage{}, err
	}
	for i, m := range ms {
		p := partner(profiles, ids[i])
		last := m.LastMessage
		if last != nil {
			c := *last
			c.SenderDeleted = p.Deleted && c.SenderID == p.ID
			last = &c
		}
		page.Matches = append(page.Matches, MatchView{ID: m.ID, CreatedAt: m.CreatedAt, LastMessage: last, Partner: p})
	}
	return page, nil
}

// Messages returns a page of the history of match matchID, which userID
// is in, in ascending order: the newest limit messages; with before (a
// NextCursor) the limit messages older than it; with after the limit
// messages newer than it. limit 0 is DefaultMessageLimit. NextCursor goes
// on in the same direction: older messages (no cursor, or before), empty
// at the first message; newer ones (after), empty when there are none
// yet. Messages of a deleted account have SenderDeleted.
//
// Errors: ErrMatchNotFound for an unknown or removed match,
// ErrNotAParticipant, ErrInvalidLimit (below 0 or above MaxMessageLimit),
// ErrInvalidCursor for both cursors or one the Service did not make.
func (s *Service) Messages(ctx context.Context, userID, matchID, before, after string, limit int) (MessagePage, error) {
	switch {
	case limit == 0:
		limit = DefaultMessageLimit
	case limit < 0 || limit > MaxMessageLimit:
		return MessagePage{}, ErrInvalidLimit.WithMessage("limit must be between 1 and %d", MaxMessageLimit)
	}
	if before != "" && after != "" {
		return MessagePage{}, ErrInvalidCursor.WithMessage("give before or after, not both")
	}
	q := HistoryQuery{Limit: limit}
	var err error
	if q.Before, err = decodeMessageCursor(before); err != nil {
		return MessagePage{}, err
	}
	if q.After, err = decodeMessageCursor(after); err != nil {
		return MessagePage{}, err
	}
	m, err := s.participant(ctx, userID, matchID)
	if err != nil {
		return MessagePage{}, err
	}
	ms, err := s.cfg.Store.Messages(ctx, matchID, q)
	if err != nil {
		return MessagePage{}, err
	}
	page := MessagePage{Messages: make([]Message, 0, len(ms))}
	if len(ms) == 0 {
		return page, nil
	}
	other := partnerOf(m, userID)
	profiles, err := s.cfg.Profiles(ctx, []string{other})
	if err != nil {
		return MessagePage{}, err
	}
	_, alive := profiles[other]
	for _, msg := range ms {
		msg.SenderDeleted = !alive && msg.SenderID == other
		page.Messages = append(page.Messages, msg)
	}
	// Seqs are 1, 2, … without gaps: older messages exist below a first
	// Seq above 1, newer ones above the match's last message.
	if q.After > 0 {
		newest := ms[len(ms)-1].Seq
		if m.LastMessage != nil && newest < m.LastMessage.Seq {
			page.NextCursor = encodeMessageCursor(newest)
		}
	} else if first := ms[0].Seq; first > 1 {
		page.NextCursor = encodeMessageCursor(first)
	}
	return page, nil
}

// checkText returns text trimmed of Unicode spaces, or ErrInvalidMessage
// unless it is valid UTF-8 of 1 to MaxTextLen characters without control
// characters other than newline and tab.
func checkText(text string) (string, error) {
	if !utf8.ValidString(text) {
		return "", ErrInvalidMessage.WithMessage("the text is not valid UTF-8")
	}
	text = strings.TrimFunc(text, unicode.IsSpace)
	n := utf8.RuneCountInString(text)
	switch {
	case n == 0:
		return "", ErrInvalidMessage.WithMessage("the text is empty")
	case n > MaxTextLen:
		return "", ErrInvalidMessage.WithMessage("the text is longer than %d characters", MaxTextLen)
	}
	for _, r := range text {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return "", ErrInvalidMessage.WithMessage("the text has a control character (U+%04X)", r)
		}
	}
	return text, nil
}

// checkClientMessageID returns ErrInvalidMessage unless id is empty (not
// given) or up to MaxClientMessageIDLen bytes of printable ASCII.
func checkClientMessageID(id string) error {
	if len(id) > MaxClientMessageIDLen {
		return ErrInvalidMessage.WithMessage("the clientMessageId is longer than %d bytes", MaxClientMessageIDLen)
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return ErrInvalidMessage.WithMessage("the clientMessageId is not printable ASCII")
		}
	}
	return nil
}

// Send sends text from userID in match matchID and returns the message.
// The text is trimmed of Unicode spaces. clientMessageID, optional, is the
// sender's own id of the message: sending again with it returns the
// message already sent, unchanged and not announced again. A new message
// is announced (EventMessage on Namespace) to both users' sockets.
//
// Errors: ErrInvalidMessage, a *RateLimitError (ErrRateLimited) over the
// user's rate, ErrMatchNotFound for an unknown or removed match,
// ErrNotAParticipant.
func (s *Service) Send(ctx context.Context, userID, matchID, text, clientMessageID string) (Message, error) {
	text, err := checkText(text)
	if err != nil {
		return Message{}, err
	}
	if err := checkClientMessageID(clientMessageID); err != nil {
		return Message{}, err
	}
	m, err := s.participant(ctx, userID, matchID)
	if err != nil {
		return Message{}, err
	}
	if s.cfg.Limiter != nil {
		ok, retry, err := s.cfg.Limiter.Allow(ctx, "chat:"+userID, s.cfg.MessageBurst, s.window)
		if err != nil {
			return Message{}, err
		}
		if !ok {
			return Message{}, &RateLimitError{Err: ErrRateLimited, After: retry}
		}
	}
	msg, created, err := s.cfg.Store.Send(ctx, NewMessage{
		ID: uuid.New(), MatchID: matchID, SenderID: userID, Text: text, ClientMessageID: clientMessageID, CreatedAt: s.now(),
	})
	if err != nil {
		return Message{}, err
	}
	if created {
		s.notify(ctx, EventMessage, msg, m.Users)
	}
	return msg, nil
}

// Unmatch removes match matchID, which userID is in, for both users: it
// leaves their matches lists, its history becomes unreadable, and a later
// mutual outcome between them makes a new match. Both users' sockets
// receive EventMatchRemoved. Errors: ErrMatchNotFound for an unknown or
// already removed match, ErrNotAParticipant.
func (s *Service) Unmatch(ctx context.Context, userID, matchID string) error {
	m, err := s.cfg.Store.Unmatch(ctx, matchID, userID, s.now())
	if err != nil {
		return err
	}
	s.notify(ctx, EventMatchRemoved, MatchRemovedEvent{MatchID: m.ID}, m.Users)
	return nil
}

// notify sends event name with data to both users (once when they are the
// same), logging a failure: the change is made.
func (s *Service) notify(ctx context.Context, name string, data any, users [2]string) {
	evs := []rv.Event{rv.NewEvent(Namespace, rv.UserTarget(users[0]), name, data)}
	if users[1] != users[0] {
		evs = append(evs, rv.NewEvent(Namespace, rv.UserTarget(users[1]), name, data))
	}
	if err := s.cfg.Notifier.Notify(ctx, evs...); err != nil {
		s.cfg.Logger.Warn("chat: notify", "event", name, "error", err)
	}
}
