package memory

import (
	"context"
	"crypto/subtle"
	"errors"
	"slices"
	"sync"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/auth"
)

var _ auth.Store = (*AuthStore)(nil)

// authSweepAge is how long expired refresh tokens and codes are kept
// before a sweep drops them: long enough that presenting one soon after
// its expiry still says "expired", as store/postgres does until its
// DeleteExpired runs.
const authSweepAge = 24 * time.Hour

// AuthStore is an in-memory auth.Store. Create one with NewAuthStore; it
// is safe for concurrent use. One mutex guards everything, so each method
// is atomic.
//
// Refresh tokens and codes that expired more than a day ago are swept
// opportunistically as writes arrive, with no background goroutine;
// DeleteExpired drops expired ones at once.
type AuthStore struct {
	clock rv.Clock

	mu         sync.Mutex
	users      map[string]*authUser
	identities map[authIdentity]string // → user id
	families   map[string]*authFamily
	tokens     map[string]*authToken // by string(hash)
	codes      map[auth.CodeKey]*authCode
	sweeper    sweeper
}

type authUser struct {
	user auth.User // Phone and Email mirror identities
}

type authIdentity struct {
	channel    auth.Channel
	identifier string
}

type authFamily struct {
	userID    string
	revokedAt time.Time // zero while live
}

type authToken struct {
	familyID   string
	issuedAt   time.Time
	expiresAt  time.Time
	rotatedAt  time.Time // zero until rotated
	replacedBy string    // string(hash) of the first successor
}

type authCode struct {
	hash        []byte
	createdAt   time.Time
	expiresAt   time.Time
	attempts    int            // wrong attempts in all
	byRequester map[string]int // wrong attempts per requester
}

// NewAuthStore returns an empty AuthStore that sweeps long-expired entries
// by clock (nil means rv.SystemClock).
func NewAuthStore(clock rv.Clock) *AuthStore {
	if clock == nil {
		clock = rv.SystemClock
	}
	return &AuthStore{
		clock:      clock,
		users:      make(map[string]*authUser),
		identities: make(map[authIdentity]string),
		families:   make(map[string]*authFamily),
		tokens:     make(map[string]*authToken),
		codes:      make(map[auth.CodeKey]*authCode),
	}
}

// Ping reports whether the store is ready, which it always is.
func (s *AuthStore) Ping(context.Context) error { return nil }

// CreateUser implements auth.Store.
func (s *AuthStore) CreateUser(_ context.Context, u auth.User, first auth.RefreshToken) error {
	if u.ID == "" {
		return errors.New("memory: user id is required")
	}
	if first.UserID != u.ID {
		return errors.New("memory: the first refresh token must belong to the new user")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	if s.users[u.ID] != nil {
		return errors.New("memory: user " + u.ID + " exists")
	}
	if err := s.checkNewToken(first); err != nil {
		return err
	}
	u.Phone, u.Email = "", ""
	u.Profile = copyProfile(u.Profile)
	u.CreatedAt = authMillis(u.CreatedAt)
	u.UpdatedAt = authMillis(u.UpdatedAt)
	s.users[u.ID] = &authUser{user: u}
	s.addFamily(first)
	return nil
}

// User implements auth.Store.
func (s *AuthStore) User(_ context.Context, id string) (auth.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[id]
	if u == nil {
		return auth.User{}, auth.ErrUserNotFound
	}
	return u.get(), nil
}

// UserByIdentity implements auth.Store.
func (s *AuthStore) UserByIdentity(_ context.Context, ch auth.Channel, identifier string) (auth.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.identities[authIdentity{ch, identifier}]
	if !ok {
		return auth.User{}, auth.ErrUserNotFound
	}
	return s.users[id].get(), nil
}

// UpdateProfile implements auth.Store.
func (s *AuthStore) UpdateProfile(_ context.Context, id string, patch auth.ProfilePatch, now time.Time) (auth.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[id]
	if u == nil {
		return auth.User{}, auth.ErrUserNotFound
	}
	u.user.Profile = u.user.Profile.Apply(patch)
	u.user.UpdatedAt = authMillis(now)
	return u.get(), nil
}

// LinkIdentity implements auth.Store.
func (s *AuthStore) LinkIdentity(_ context.Context, id string, ch auth.Channel, identifier string, now time.Time) (auth.User, error) {
	if !ch.Valid() || identifier == "" {
		return auth.User{}, errors.New("memory: invalid identity")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[id]
	if u == nil {
		return auth.User{}, auth.ErrUserNotFound
	}
	key := authIdentity{ch, identifier}
	if owner, ok := s.identities[key]; ok && owner != id {
		return auth.User{}, auth.ErrIdentityTaken
	}
	field := &u.user.Phone
	if ch == auth.ChannelEmail {
		field = &u.user.Email
	}
	if *field != "" {
		delete(s.identities, authIdentity{ch, *field})
	}
	*field = identifier
	s.identities[key] = id
	u.user.UpdatedAt = authMillis(now)
	return u.get(), nil
}

// DeleteUser implements auth.Store.
func (s *AuthStore) DeleteUser(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[id]
	if u == nil {
		return auth.ErrUserNotFound
	}
	for ch, identifier := range map[auth.Channel]string{auth.ChannelPhone: u.user.Phone, auth.ChannelEmail: u.user.Email} {
		if identifier != "" {
			delete(s.identities, authIdentity{ch, identifier})
			delete(s.codes, auth.CodeKey{Purpose: auth.PurposeLogin, Channel: ch, Identifier: identifier})
		}
	}
	for key := range s.codes {
		if key.UserID == id {
			delete(s.codes, key)
		}
	}
	for hash, t := range s.tokens {
		if s.families[t.familyID].userID == id {
			delete(s.tokens, hash)
		}
	}
	for fid, f := range s.families {
		if f.userID == id {
			delete(s.families, fid)
		}
	}
	delete(s.users, id)
	return nil
}

// CreateRefreshToken implements auth.Store.
func (s *AuthStore) CreateRefreshToken(_ context.Context, t auth.RefreshToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	if s.users[t.UserID] == nil {
		return auth.ErrUserNotFound
	}
	if err := s.checkNewToken(t); err != nil {
		return err
	}
	s.addFamily(t)
	return nil
}

// RotateRefreshToken implements auth.Store.
func (s *AuthStore) RotateRefreshToken(_ context.Context, r auth.Rotation) (auth.RefreshToken, error) {
	if len(r.Next) == 0 {
		return auth.RefreshToken{}, errors.New("memory: the successor's hash is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	t := s.tokens[string(r.Presented)]
	if t == nil {
		return auth.RefreshToken{}, auth.ErrRefreshInvalid
	}
	f := s.families[t.familyID]
	if !r.Now.Before(t.expiresAt) {
		return auth.RefreshToken{}, auth.ErrRefreshExpired
	}
	if s.tokens[string(r.Next)] != nil {
		return auth.RefreshToken{}, errors.New("memory: the successor's hash is taken")
	}
	if !t.rotatedAt.IsZero() {
		successor := s.tokens[t.replacedBy]
		if r.Grace > 0 && f.revokedAt.IsZero() && r.Now.Sub(t.rotatedAt) <= r.Grace &&
			successor != nil && successor.rotatedAt.IsZero() {
			return s.addToken(t.familyID, r), nil
		}
		if f.revokedAt.IsZero() {
			f.revokedAt = authMillis(r.Now)
		}
		return auth.RefreshToken{
			Hash:      slices.Clone(r.Presented),
			UserID:    f.userID,
			FamilyID:  t.familyID,
			IssuedAt:  t.issuedAt,
			ExpiresAt: t.expiresAt,
		}, auth.ErrRefreshReused
	}
	if !f.revokedAt.IsZero() {
		return auth.RefreshToken{}, auth.ErrTokenRevoked
	}
	t.rotatedAt = authMillis(r.Now)
	t.replacedBy = string(r.Next)
	return s.addToken(t.familyID, r), nil
}

// RevokeTokenFamily implements auth.Store.
func (s *AuthStore) RevokeTokenFamily(_ context.Context, tokenHash []byte, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tokens[string(tokenHash)]; t != nil {
		if f := s.families[t.familyID]; f.revokedAt.IsZero() {
			f.revokedAt = authMillis(now)
		}
	}
	return nil
}

// RevokeUserFamilies implements auth.Store.
func (s *AuthStore) RevokeUserFamilies(_ context.Context, userID string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.families {
		if f.userID == userID && f.revokedAt.IsZero() {
			f.revokedAt = authMillis(now)
		}
	}
	return nil
}

// PutCode implements auth.Store.
func (s *AuthStore) PutCode(_ context.Context, c auth.VerificationCode) error {
	if len(c.Hash) == 0 {
		return errors.New("memory: the code's hash is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	s.codes[c.Key] = &authCode{
		hash:      slices.Clone(c.Hash),
		createdAt: authMillis(c.CreatedAt),
		expiresAt: authMillis(c.ExpiresAt),
	}
	return nil
}

// CheckCode implements auth.Store.
func (s *AuthStore) CheckCode(_ context.Context, chk auth.CodeCheck) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.codes[chk.Key]
	switch {
	case c == nil:
		return auth.ErrCodeInvalid
	case !chk.Now.Before(c.expiresAt):
		return auth.ErrCodeExpired
	case c.attempts >= chk.MaxTotalAttempts || c.byRequester[chk.Requester] >= chk.MaxAttempts:
		return auth.ErrCodeExhausted
	case subtle.ConstantTimeCompare(c.hash, chk.Hash) != 1:
		c.attempts++
		if c.byRequester == nil {
			c.byRequester = make(map[string]int)
		}
		c.byRequester[chk.Requester]++
		return auth.ErrCodeInvalid
	}
	delete(s.codes, chk.Key)
	return nil
}

// DeleteExpired implements auth.Store.
func (s *AuthStore) DeleteExpired(_ context.Context, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteExpired(now)
	return nil
}

func (s *AuthStore) deleteExpired(now time.Time) {
	for key, c := range s.codes {
		if !now.Before(c.expiresAt) {
			delete(s.codes, key)
		}
	}
	live := make(map[string]bool, len(s.families))
	for hash, t := range s.tokens {
		if !now.Before(t.expiresAt) {
			delete(s.tokens, hash)
		} else {
			live[t.familyID] = true
		}
	}
	for id := range s.families {
		if !live[id] {
			delete(s.families, id)
		}
	}
}

// sweep drops what expired more than authSweepAge ago, when a sweep is due.
func (s *AuthStore) sweep() {
	now := s.clock.Now()
	size := len(s.tokens) + len(s.codes)
	if !s.sweeper.due(now, size) {
		return
	}
	s.deleteExpired(now.Add(-authSweepAge))
	s.sweeper.done(now, len(s.tokens)+len(s.codes))
}

func (s *AuthStore) checkNewToken(t auth.RefreshToken) error {
	switch {
	case len(t.Hash) == 0 || t.FamilyID == "":
		return errors.New("memory: a refresh token needs a hash and a family")
	case s.tokens[string(t.Hash)] != nil:
		return errors.New("memory: the refresh token's hash is taken")
	case s.families[t.FamilyID] != nil:
		return errors.New("memory: family " + t.FamilyID + " exists")
	}
	return nil
}

func (s *AuthStore) addFamily(t auth.RefreshToken) {
	s.families[t.FamilyID] = &authFamily{userID: t.UserID}
	s.tokens[string(t.Hash)] = &authToken{
		familyID:  t.FamilyID,
		issuedAt:  authMillis(t.IssuedAt),
		expiresAt: authMillis(t.ExpiresAt),
	}
}

// addToken stores the successor of r in family familyID and returns it.
func (s *AuthStore) addToken(familyID string, r auth.Rotation) auth.RefreshToken {
	t := &authToken{familyID: familyID, issuedAt: authMillis(r.Now), expiresAt: authMillis(r.ExpiresAt)}
	s.tokens[string(r.Next)] = t
	return auth.RefreshToken{
		Hash:      slices.Clone(r.Next),
		UserID:    s.families[familyID].userID,
		FamilyID:  familyID,
		IssuedAt:  t.issuedAt,
		ExpiresAt: t.expiresAt,
	}
}

// get returns a copy of the user that shares nothing with the store.
func (u *authUser) get() auth.User {
	c := u.user
	c.Profile = copyProfile(c.Profile)
	return c
}

func copyProfile(p auth.Profile) auth.Profile {
	p.Interests = append([]string{}, p.Interests...)
	p.PhotoURLs = append([]string{}, p.PhotoURLs...)
	return p
}

// authMillis returns t in UTC truncated to the millisecond.
func authMillis(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }
