package rooms

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/textrule"
	"github.com/rendezvous-go/rendezvous/internal/uuid"
)

// Namespace is the Socket.IO namespace of rooms.
const Namespace = "/rooms"

// Event names, client → server.
const (
	EventClose        = "room:close"
	EventLeave        = "room:leave"
	EventKick         = "room:kick"
	EventToggleLock   = "room:toggle_lock"
	EventTransferHost = "room:transfer_host"
)

// Event names, server → client.
const (
	EventState            = "room:state"
	EventClosed           = "room:closed"
	EventHostUpdated      = "room:host_updated"
	EventLockToggled      = "room:lock_toggled"
	EventUserConnected    = "user:connected"
	EventUserDisconnected = "user:disconnected"
	EventUserKicked       = "user:kicked"
	EventUserLeft         = "user:left"
	EventError            = "error:room"
)

// Reasons carried by room:closed and user:left.
const (
	ReasonHostClosed = "HOST_CLOSED"
	ReasonHostLeft   = "HOST_LEFT"
	ReasonKicked     = "KICKED"
	ReasonLeft       = "LEFT"
	ReasonExpired    = "EXPIRED"
)

// ExpireJobKind is the kind of the durable job that ends a room when its
// TTL runs out; a host registers (*Service).HandleExpiry for it.
const ExpireJobKind = "rooms.expire"

// ExpireJobKey is the key of room code's expiry job.
func ExpireJobKey(code string) string { return "room:" + code + ":expire" }

// Scheduler schedules and cancels durable jobs; *rendezvous.Scheduler
// implements it.
type Scheduler = rv.JobScheduler

// DefaultCodeAlphabet leaves out letters and digits that are easily confused
// when read aloud or typed (0/O, 1/I/L).
const DefaultCodeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// MaxCodeLength bounds ROOM_CODE_LENGTH and the length of codes accepted
// from clients.
const MaxCodeLength = 16

// TargetRoom is the Event target that reaches every socket of a room.
func TargetRoom(code string) string { return rv.RoomTarget(code) }

// TargetUser is the Event target that reaches every socket of one member.
func TargetUser(userID string) string { return rv.UserTarget(userID) }

// TokenIssuer issues and verifies room connection tokens.
// auth.RoomTokens implements it.
type TokenIssuer interface {
	IssueRoomToken(roomCode, userID string) (string, error)
	// VerifyRoomToken returns the token's room code and user id, or an
	// error of KindUnauthenticated.
	VerifyRoomToken(token string) (roomCode, userID string, err error)
	// VerifyRoomTokenIgnoringExpiry is VerifyRoomToken for a token that
	// may have expired; everything else is checked.
	VerifyRoomTokenIgnoringExpiry(token string) (roomCode, userID string, err error)
}

// Config configures a Service. Zero fields take the documented defaults.
type Config struct {
	// Store keeps rooms. Required.
	Store Store
	// Tokens issues connection tokens. Required.
	Tokens TokenIssuer
	// Notifier publishes real-time events. Default: events are dropped.
	Notifier rv.Notifier
	// Clock tells the time. Default rendezvous.SystemClock.
	Clock rv.Clock
	// Logger receives failures that cannot be returned (a lost event).
	// Default: silent.
	Logger *slog.Logger

	// CodeAlphabet holds the characters of room codes. Default
	// DefaultCodeAlphabet. Letters are upper-cased; codes typed in lower
	// case resolve.
	CodeAlphabet string
	// CodeLength is the length of room codes, 1 to MaxCodeLength. Default 4.
	CodeLength int
	// CodeAttempts bounds the random codes tried per create before
	// ErrCodeGenerationFailed. Default 10.
	CodeAttempts int
	// MaxUsers is the default and the ceiling of a room's maxUsers.
	// Default 8.
	MaxUsers int
	// TTL is how long a room lives after its last activity. Default 4h.
	TTL time.Duration
	// DisplayNameMin and DisplayNameMax bound display names, counted in
	// characters (code points) after trimming. Defaults 1 and 32. The rest
	// of the rule (no control, invisible or unassigned characters, at
	// least one visible one) is package textrule's, shared with the
	// profiles of package auth.
	DisplayNameMin, DisplayNameMax int
	// Scheduler, when set, runs the expiry of rooms: Create schedules the
	// job ExpireJobKey(code) of kind ExpireJobKind, and the host must
	// register HandleExpiry for that kind on the Scheduler it passes here,
	// so that the sockets of an expired room get room:closed (reason
	// EXPIRED). Default: rooms still expire by their TTL, silently.
	Scheduler Scheduler
	// PresenceTTL is how long a socket's presence entry (Store.Touch)
	// stays live without a refresh. Default DefaultPresenceTTL. The
	// transport refreshes each socket every PresenceTTL/3 (RefreshAll, in
	// batches of the instance's sockets) and
	// sweeps the rooms it has sockets in (Sweep) every PresenceTTL/2, so
	// a crashed instance's sockets are reported user:disconnected about
	// PresenceTTL to 1.5×PresenceTTL after the crash. At least one
	// second.
	PresenceTTL time.Duration
	// CloseOnHostLeave closes the room (room:closed reason HOST_LEFT) when
	// the host leaves, instead of promoting the longest-present member.
	CloseOnHostLeave bool
}

// DefaultPresenceTTL is the default of Config.PresenceTTL.
const DefaultPresenceTTL = 30 * time.Second

// Service implements rooms: REST operations, connection authentication and
// the host controls of the /rooms namespace. It is safe for concurrent use,
// and any number of Services on any number of processes may share a Store.
type Service struct {
	cfg      Config
	alphabet []rune
}

// New validates cfg, fills in defaults and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("rooms: Config.Store is required")
	}
	if cfg.Tokens == nil {
		return nil, errors.New("rooms: Config.Tokens is required")
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
	if cfg.CodeAlphabet == "" {
		cfg.CodeAlphabet = DefaultCodeAlphabet
	}
	if cfg.CodeLength == 0 {
		cfg.CodeLength = 4
	}
	if cfg.CodeAttempts == 0 {
		cfg.CodeAttempts = 10
	}
	if cfg.MaxUsers == 0 {
		cfg.MaxUsers = 8
	}
	if cfg.TTL == 0 {
		cfg.TTL = 4 * time.Hour
	}
	if cfg.PresenceTTL == 0 {
		cfg.PresenceTTL = DefaultPresenceTTL
	}
	if cfg.DisplayNameMin == 0 {
		cfg.DisplayNameMin = 1
	}
	if cfg.DisplayNameMax == 0 {
		cfg.DisplayNameMax = 32
	}
	s := &Service{cfg: cfg}
	seen := map[rune]bool{}
	for _, r := range strings.ToUpper(cfg.CodeAlphabet) {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return nil, fmt.Errorf("rooms: CodeAlphabet may hold only ASCII letters and digits, not %q", r)
		}
		if !seen[r] {
			seen[r] = true
			s.alphabet = append(s.alphabet, r)
		}
	}
	switch {
	case len(s.alphabet) < 2:
		return nil, errors.New("rooms: CodeAlphabet needs at least 2 distinct characters")
	case cfg.CodeLength < 1 || cfg.CodeLength > MaxCodeLength:
		return nil, fmt.Errorf("rooms: CodeLength must be 1 to %d", MaxCodeLength)
	case cfg.CodeAttempts < 1:
		return nil, errors.New("rooms: CodeAttempts must be positive")
	case cfg.MaxUsers < 1:
		return nil, errors.New("rooms: MaxUsers must be positive")
	case cfg.TTL < time.Second:
		return nil, errors.New("rooms: TTL must be at least one second")
	case cfg.PresenceTTL < time.Second:
		return nil, errors.New("rooms: PresenceTTL must be at least one second")
	case cfg.DisplayNameMin < 1 || cfg.DisplayNameMax < cfg.DisplayNameMin:
		return nil, errors.New("rooms: need 1 <= DisplayNameMin <= DisplayNameMax")
	}
	return s, nil
}

// Config returns the configuration in force, defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// CreateRequest is the body of POST /rooms.
type CreateRequest struct {
	DisplayName string `json:"displayName"`
	// MaxUsers is optional: nil takes Config.MaxUsers; it may not exceed it.
	MaxUsers *int `json:"maxUsers,omitempty"`
}

// JoinRequest is the body of POST /rooms/{code}/join.
type JoinRequest struct {
	DisplayName string `json:"displayName"`
}

func (s *Service) write() Write { return Write{Now: s.cfg.Clock.Now().UTC(), TTL: s.cfg.TTL} }

// Create creates a room with a fresh code and its creator as host.
func (s *Service) Create(ctx context.Context, req CreateRequest) (Ticket, error) {
	name, err := s.displayName(req.DisplayName)
	if err != nil {
		return Ticket{}, err
	}
	maxUsers := s.cfg.MaxUsers
	if req.MaxUsers != nil {
		maxUsers = *req.MaxUsers
		if maxUsers < 1 || maxUsers > s.cfg.MaxUsers {
			return Ticket{}, ErrInvalidMaxUsers.WithMessage("maxUsers must be between 1 and %d", s.cfg.MaxUsers)
		}
	}
	w := s.write()
	host := Member{ID: uuid.New(), DisplayName: name, JoinedAt: w.Now}
	room := Room{HostID: host.ID, MaxUsers: maxUsers, State: StateCreated, CreatedAt: w.Now, UpdatedAt: w.Now}
	for range s.cfg.CodeAttempts {
		room.Code = s.newCode()
		err := s.cfg.Store.CreateRoom(ctx, w, room, host)
		if errors.Is(err, ErrCodeTaken) {
			continue
		}
		if err != nil {
			return Ticket{}, err
		}
		if s.cfg.Scheduler != nil {
			// Without its job the room would expire silently; nobody holds
			// a token for it yet, so failing the create is safe.
			if err := s.scheduleExpiry(ctx, room.Code, w.Now.Add(w.TTL)); err != nil {
				return Ticket{}, err
			}
		}
		return s.ticket(room.Code, host.ID)
	}
	return Ticket{}, ErrCodeGenerationFailed
}

// Get returns a room by code (ErrRoomNotFound).
func (s *Service) Get(ctx context.Context, code string) (Room, error) {
	code, err := NormalizeCode(code)
	if err != nil {
		return Room{}, err
	}
	return s.cfg.Store.Room(ctx, code)
}

// Join adds a new member to the room: ErrRoomNotFound, ErrRoomLocked,
// ErrRoomFull.
func (s *Service) Join(ctx context.Context, code string, req JoinRequest) (Ticket, error) {
	code, err := NormalizeCode(code)
	if err != nil {
		return Ticket{}, err
	}
	name, err := s.displayName(req.DisplayName)
	if err != nil {
		return Ticket{}, err
	}
	w := s.write()
	m := Member{ID: uuid.New(), DisplayName: name, JoinedAt: w.Now}
	if _, err := s.cfg.Store.Join(ctx, w, code, m); err != nil {
		return Ticket{}, err
	}
	return s.ticket(code, m.ID)
}

// Rejoin exchanges a member's token, expired or not, for a fresh one, if
// the member is still in the room: ErrTokenRoomMismatch when the token is
// for another room, ErrMemberNotFound, ErrRoomNotFound, or the token
// issuer's error for a bad token.
//
// An expired token is accepted here if everything else about it is valid:
// the membership check against the store is what authorises the new
// token, so a player in a long game can always get back in after a
// reload, and a member who left or was kicked never can.
func (s *Service) Rejoin(ctx context.Context, code, token string) (Ticket, error) {
	code, err := NormalizeCode(code)
	if err != nil {
		return Ticket{}, err
	}
	tokCode, userID, err := s.cfg.Tokens.VerifyRoomTokenIgnoringExpiry(token)
	if err != nil {
		return Ticket{}, err
	}
	if tokCode != code {
		return Ticket{}, ErrTokenRoomMismatch
	}
	if _, err := s.cfg.Store.Member(ctx, code, userID); err != nil {
		return Ticket{}, err
	}
	return s.ticket(code, userID)
}

// Authenticate checks a connection token the way the /rooms namespace does
// at connect: signature and expiry, then that the room is open and the user
// is still a member. It returns the room code and user id.
func (s *Service) Authenticate(ctx context.Context, token string) (code, userID string, err error) {
	code, userID, err = s.cfg.Tokens.VerifyRoomToken(token)
	if err != nil {
		return "", "", err
	}
	if _, err := s.cfg.Store.Member(ctx, code, userID); err != nil {
		return "", "", err
	}
	return code, userID, nil
}

// Admission is what a socket connecting to the /rooms namespace gets from
// Admit.
type Admission struct {
	// Code and UserID are the token's room and user.
	Code, UserID string
	// State is the socket's room:state: the room and every member,
	// longest-present first, the socket's own user shown connected (its
	// presence is written once it is connected, by SocketConnected).
	State Snapshot
}

// Admit checks a connection token the way the /rooms namespace does at
// connect (as Authenticate: signature and expiry, then that the room is
// open and the user is still a member) and reads the room's state, with
// one store call (Store.Admit) where Authenticate and State make three.
func (s *Service) Admit(ctx context.Context, token string) (Admission, error) {
	code, userID, err := s.cfg.Tokens.VerifyRoomToken(token)
	if err != nil {
		return Admission{}, err
	}
	room, members, err := s.cfg.Store.Admit(ctx, code, userID, s.cfg.Clock.Now().UTC())
	if err != nil {
		return Admission{}, err
	}
	snap := Snapshot{Room: room, Users: make([]User, len(members))}
	for i, m := range members {
		snap.Users[i] = m.user(room.HostID)
		if m.ID == userID {
			snap.Users[i].IsConnected = true
		}
	}
	return Admission{Code: code, UserID: userID, State: snap}, nil
}

// State returns the room and every member, longest-present first. A
// member is connected while it has a live presence entry (SocketConnected,
// Refresh).
func (s *Service) State(ctx context.Context, code string) (Snapshot, error) {
	room, err := s.cfg.Store.Room(ctx, code)
	if err != nil {
		return Snapshot{}, err
	}
	members, err := s.cfg.Store.MembersAt(ctx, code, s.cfg.Clock.Now().UTC())
	if err != nil {
		return Snapshot{}, err
	}
	snap := Snapshot{Room: room, Users: make([]User, len(members))}
	for i, m := range members {
		snap.Users[i] = m.user(room.HostID)
	}
	return snap, nil
}

// Leave removes userID from the room: the room gets user:left (reason
// LEFT), the member's sockets are disconnected, and a new host is announced
// (room:host_updated) or the room is closed (room:closed), as the store's
// Leave decided.
func (s *Service) Leave(ctx context.Context, code, userID string) error {
	res, err := s.cfg.Store.Leave(ctx, s.write(), code, userID, s.cfg.CloseOnHostLeave)
	if err != nil {
		return err
	}
	evs := []rv.Event{
		{Namespace: Namespace, Target: TargetUser(userID), Disconnect: true},
	}
	if res.Closed {
		// The last member left, or the host left and the room closes with them.
		evs = append(evs, s.closedEvent(code, ReasonHostLeft))
		s.notify(ctx, evs...)
		s.cancelExpiry(ctx, code)
		return nil
	}
	evs = append(evs, rv.NewEvent(Namespace, TargetRoom(code), EventUserLeft, map[string]any{"reason": ReasonLeft, "userId": userID}))
	if res.HostChanged {
		evs = append(evs, rv.NewEvent(Namespace, TargetRoom(code), EventHostUpdated, map[string]any{"hostId": res.Room.HostID}))
	}
	s.notify(ctx, evs...)
	return nil
}

// Kick removes userID on behalf of the host hostID: the kicked member gets
// user:kicked and is disconnected, the room gets user:left (reason KICKED).
func (s *Service) Kick(ctx context.Context, code, hostID, userID string) error {
	if userID == "" {
		return ErrInvalidPayload.WithMessage("kickUserId is required")
	}
	if _, err := s.cfg.Store.Kick(ctx, s.write(), code, hostID, userID); err != nil {
		return err
	}
	s.notify(ctx,
		rv.Event{Namespace: Namespace, Target: TargetUser(userID), Name: EventUserKicked, Disconnect: true},
		rv.NewEvent(Namespace, TargetRoom(code), EventUserLeft, map[string]any{"reason": ReasonKicked, "userId": userID}),
	)
	return nil
}

// ToggleLock flips the room's lock on behalf of the host; the room gets
// room:lock_toggled. It returns the new state.
func (s *Service) ToggleLock(ctx context.Context, code, hostID string) (bool, error) {
	room, err := s.cfg.Store.ToggleLock(ctx, s.write(), code, hostID)
	if err != nil {
		return false, err
	}
	s.notify(ctx, rv.NewEvent(Namespace, TargetRoom(code), EventLockToggled, map[string]any{"isLocked": room.IsLocked}))
	return room.IsLocked, nil
}

// TransferHost makes newHostID host on behalf of the host; the room gets
// room:host_updated.
func (s *Service) TransferHost(ctx context.Context, code, hostID, newHostID string) error {
	if newHostID == "" {
		return ErrInvalidPayload.WithMessage("newHostId is required")
	}
	room, err := s.cfg.Store.TransferHost(ctx, s.write(), code, hostID, newHostID)
	if err != nil {
		return err
	}
	s.notify(ctx, rv.NewEvent(Namespace, TargetRoom(code), EventHostUpdated, map[string]any{"hostId": room.HostID}))
	return nil
}

// Close deletes the room on behalf of the host: every socket of the room
// gets room:closed (reason HOST_CLOSED) and is disconnected, and every
// token of the room stops working.
func (s *Service) Close(ctx context.Context, code, hostID string) error {
	if err := s.cfg.Store.Close(ctx, code, hostID); err != nil {
		return err
	}
	s.notify(ctx, s.closedEvent(code, ReasonHostClosed))
	s.cancelExpiry(ctx, code)
	return nil
}

// HandleExpiry is the rendezvous.JobHandler of ExpireJobKind. It asks the
// store, atomically, whether the room of the job has expired: a room still
// live (a write renewed its TTL) gets its job rescheduled for its new
// expiry; a room that expired, or whose keys Redis already dropped, loses
// whatever keys remain and its sockets get room:closed (reason EXPIRED)
// and are disconnected; a room closed by its host or by the last leave
// gets nothing more. Like every job handler it may run more than once for
// one expiry, after a crash between the store's answer and the job's
// completion; the event may then be published twice.
func (s *Service) HandleExpiry(ctx context.Context, job rv.Job) error {
	code, err := NormalizeCode(string(job.Payload))
	if err != nil {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelError, "rooms: expiry job without a valid room code; dropped", slog.String("job", job.Key))
		return nil
	}
	res, err := s.cfg.Store.ExpireRoom(ctx, s.write(), code)
	if err != nil {
		return err
	}
	switch {
	case res.Expired:
		s.notify(ctx, s.closedEvent(code, ReasonExpired))
	case !res.Due.IsZero():
		if s.cfg.Scheduler == nil {
			return errors.New("rooms: a live room's expiry job cannot be rescheduled without Config.Scheduler")
		}
		return s.scheduleExpiry(ctx, code, res.Due)
	}
	return nil
}

func (s *Service) scheduleExpiry(ctx context.Context, code string, due time.Time) error {
	return s.cfg.Scheduler.Schedule(ctx, rv.Job{Key: ExpireJobKey(code), Kind: ExpireJobKind, Due: due, Payload: []byte(code)})
}

// cancelExpiry cancels the expiry job of a room that was just closed. The
// store remembers the room as closed anyway, so a job that survives (a
// failed cancel, a job already running) finds it closed and does nothing.
func (s *Service) cancelExpiry(ctx context.Context, code string) {
	if s.cfg.Scheduler == nil {
		return
	}
	if _, err := s.cfg.Scheduler.Cancel(context.WithoutCancel(ctx), ExpireJobKey(code)); err != nil {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "rooms: expiry job of a closed room not cancelled", slog.String("room", code), slog.Any("err", err))
	}
}

func (s *Service) closedEvent(code, reason string) rv.Event {
	ev := rv.NewEvent(Namespace, TargetRoom(code), EventClosed, map[string]any{"reason": reason})
	ev.Disconnect = true
	return ev
}

func (s *Service) notify(ctx context.Context, evs ...rv.Event) {
	// The state change is committed; a lost event must not turn it into
	// an error for the caller, so it is logged instead.
	if err := s.cfg.Notifier.Notify(context.WithoutCancel(ctx), evs...); err != nil {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelError, "rooms: event not published", slog.String("event", evs[0].Name), slog.Any("err", err))
	}
}

func (s *Service) ticket(code, userID string) (Ticket, error) {
	tok, err := s.cfg.Tokens.IssueRoomToken(code, userID)
	if err != nil {
		return Ticket{}, err
	}
	return Ticket{RoomCode: code, Token: tok, UserID: userID}, nil
}

// displayName trims name and checks it against the display-name rule of
// package textrule, with the configured length bounds.
func (s *Service) displayName(name string) (string, error) {
	name, err := textrule.DisplayName{Min: s.cfg.DisplayNameMin, Max: s.cfg.DisplayNameMax}.Check(name)
	if err != nil {
		return "", ErrInvalidDisplayName.WithMessage("displayName %v", err)
	}
	return name, nil
}

// NormalizeCode upper-cases a room code typed by a user and checks that it
// can be a code at all; anything else is ErrRoomNotFound.
func NormalizeCode(code string) (string, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" || len(code) > MaxCodeLength {
		return "", ErrRoomNotFound
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return "", ErrRoomNotFound
		}
	}
	return code, nil
}

func (s *Service) newCode() string {
	b := make([]rune, s.cfg.CodeLength)
	n := big.NewInt(int64(len(s.alphabet)))
	for i := range b {
		k, err := rand.Int(rand.Reader, n)
		if err != nil {
			panic("rooms: crypto/rand failed: " + err.Error())
		}
		b[i] = s.alphabet[k.Int64()]
	}
	return string(b)
}
