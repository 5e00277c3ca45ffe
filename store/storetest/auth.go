package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/auth"
)

// AuthHarness is one isolated auth.Store under test.
type AuthHarness struct {
	// Store is the implementation under test, empty.
	Store auth.Store
}

// RunAuth runs the auth.Store conformance cases, each as a parallel subtest
// of t with a store from its own call of newHarness. Times are passed to
// the store explicitly, so no case waits.
func RunAuth(t *testing.T, newHarness func(t *testing.T) AuthHarness) {
	t.Helper()
	for _, c := range authCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			c.run(&authT{T: t, s: h.Store, ctx: context.Background(), now: time.Now().UTC().Truncate(time.Millisecond)})
		})
	}
}

// authT is the state of one case.
type authT struct {
	*testing.T
	s   auth.Store
	ctx context.Context
	now time.Time // the case's base time
}

// refreshTTL is the lifetime of the refresh tokens the cases create.
const refreshTTL = 30 * 24 * time.Hour

// at returns the base time plus d.
func (a *authT) at(d time.Duration) time.Time { return a.now.Add(d) }

// newUser creates a user with a new family and returns both.
func (a *authT) newUser(p auth.Profile) (auth.User, auth.RefreshToken) {
	a.Helper()
	u := auth.User{ID: uuid(), Profile: p, CreatedAt: a.now, UpdatedAt: a.now}
	first := a.token(u.ID, uuid())
	if err := a.s.CreateUser(a.ctx, u, first); err != nil {
		a.Fatalf("CreateUser: %v", err)
	}
	return u, first
}

// token returns a new token record for user and family, issued at the
// base time.
func (a *authT) token(userID, familyID string) auth.RefreshToken {
	return auth.RefreshToken{Hash: randomBytes(), UserID: userID, FamilyID: familyID, IssuedAt: a.now, ExpiresAt: a.now.Add(refreshTTL)}
}

// newFamily starts another family for userID.
func (a *authT) newFamily(userID string) auth.RefreshToken {
	a.Helper()
	t := a.token(userID, uuid())
	if err := a.s.CreateRefreshToken(a.ctx, t); err != nil {
		a.Fatalf("CreateRefreshToken: %v", err)
	}
	return t
}

// rotate rotates presented at the base time plus d with grace and returns
// the successor's hash, the record and the error.
func (a *authT) rotate(presented []byte, d, grace time.Duration) ([]byte, auth.RefreshToken, error) {
	next := randomBytes()
	rec, err := a.s.RotateRefreshToken(a.ctx, auth.Rotation{
		Presented: presented, Next: next, Now: a.at(d), ExpiresAt: a.at(d + refreshTTL), Grace: grace,
	})
	return next, rec, err
}

// mustRotate rotates presented and fails unless it succeeds within family.
func (a *authT) mustRotate(presented []byte, d, grace time.Duration, want auth.RefreshToken) []byte {
	a.Helper()
	next, rec, err := a.rotate(presented, d, grace)
	if err != nil {
		a.Fatalf("RotateRefreshToken: %v", err)
	}
	if !bytes.Equal(rec.Hash, next) || rec.UserID != want.UserID || rec.FamilyID != want.FamilyID ||
		!rec.IssuedAt.Equal(a.at(d)) || !rec.ExpiresAt.Equal(a.at(d+refreshTTL)) {
		a.Fatalf("RotateRefreshToken returned %+v, want the successor in user %s family %s issued at %v",
			rec, want.UserID, want.FamilyID, a.at(d))
	}
	return next
}

// wantRotateErr fails unless rotating presented fails with want.
func (a *authT) wantRotateErr(what string, presented []byte, d time.Duration, want error) {
	a.Helper()
	if _, _, err := a.rotate(presented, d, 0); !errors.Is(err, want) {
		a.Fatalf("%s: RotateRefreshToken = %v, want %v", what, err, want)
	}
}

func (a *authT) user(id string) auth.User {
	a.Helper()
	u, err := a.s.User(a.ctx, id)
	if err != nil {
		a.Fatalf("User(%s): %v", id, err)
	}
	return u
}

func (a *authT) link(id string, ch auth.Channel, identifier string) auth.User {
	a.Helper()
	u, err := a.s.LinkIdentity(a.ctx, id, ch, identifier, a.at(time.Second))
	if err != nil {
		a.Fatalf("LinkIdentity(%s, %s, %s): %v", id, ch, identifier, err)
	}
	return u
}

func (a *authT) wantErr(what string, err, want error) {
	a.Helper()
	if !errors.Is(err, want) {
		a.Errorf("%s: got %v, want %v", what, err, want)
	}
}

// putCode stores a code for key, expiring 10 minutes after the base time,
// and returns its hash.
func (a *authT) putCode(key auth.CodeKey) []byte {
	a.Helper()
	hash := randomBytes()
	err := a.s.PutCode(a.ctx, auth.VerificationCode{Key: key, Hash: hash, CreatedAt: a.now, ExpiresAt: a.at(10 * time.Minute)})
	if err != nil {
		a.Fatalf("PutCode: %v", err)
	}
	return hash
}

// The attempt limits the cases check codes with: wrong attempts per
// requester and in all, per code.
const (
	maxAttempts      = 5
	maxTotalAttempts = 10
)

// check checks hash against key's code at the base time plus d, from the
// requester "192.0.2.1".
func (a *authT) check(key auth.CodeKey, hash []byte, d time.Duration) error {
	return a.checkFrom("192.0.2.1", key, hash, d)
}

// checkFrom is check from requester.
func (a *authT) checkFrom(requester string, key auth.CodeKey, hash []byte, d time.Duration) error {
	return a.s.CheckCode(a.ctx, auth.CodeCheck{
		Key: key, Hash: hash, Now: a.at(d), Requester: requester,
		MaxAttempts: maxAttempts, MaxTotalAttempts: maxTotalAttempts,
	})
}

func sameUser(got, want auth.User) bool {
	return got.ID == want.ID && got.DisplayName == want.DisplayName && got.Bio == want.Bio &&
		got.Age == want.Age && got.Gender == want.Gender &&
		slices.Equal(got.Interests, want.Interests) && slices.Equal(got.PhotoURLs, want.PhotoURLs) &&
		got.Phone == want.Phone && got.Email == want.Email &&
		got.CreatedAt.Equal(want.CreatedAt) && got.UpdatedAt.Equal(want.UpdatedAt)
}

func ptr[T any](v T) *T { return &v }

var fullProfile = auth.Profile{
	DisplayName: "Zoë ✨",
	Bio:         "Likes \"quotes\" and\nnew lines",
	Age:         29,
	Gender:      auth.GenderNonBinary,
	Interests:   []string{"climbing", "jazz"},
	PhotoURLs:   []string{"https://cdn.example.com/a.jpg", "https://cdn.example.com/b.jpg?x=1"},
}

var authCases = []struct {
	name string
	run  func(a *authT)
}{
	{"CreateAndReadUser", func(a *authT) {
		u, first := a.newUser(fullProfile)
		got := a.user(u.ID)
		if !sameUser(got, u) {
			a.Errorf("User = %+v, want %+v", got, u)
		}
		if got.CreatedAt.Location() != time.UTC {
			a.Errorf("CreatedAt in %v, want UTC", got.CreatedAt.Location())
		}
		a.mustRotate(first.Hash, time.Second, 0, first)
		if err := a.s.CreateUser(a.ctx, u, a.token(u.ID, uuid())); err == nil {
			a.Error("CreateUser with a taken id succeeded")
		}
	}},

	{"EmptyListsAreNotNil", func(a *authT) {
		u, _ := a.newUser(auth.Profile{})
		got := a.user(u.ID)
		if got.Interests == nil || got.PhotoURLs == nil || len(got.Interests) != 0 || len(got.PhotoURLs) != 0 {
			a.Errorf("lists of a new user = %#v, %#v; want empty and non-nil", got.Interests, got.PhotoURLs)
		}
		if got.Age != 0 || got.Gender != "" || got.Phone != "" || got.Email != "" {
			a.Errorf("new user = %+v, want no age, gender or identifiers", got)
		}
	}},

	{"UnknownUser", func(a *authT) {
		for _, id := range []string{uuid(), "not-a-uuid", ""} {
			_, err := a.s.User(a.ctx, id)
			a.wantErr("User("+id+")", err, auth.ErrUserNotFound)
			_, err = a.s.UpdateProfile(a.ctx, id, auth.ProfilePatch{Bio: ptr("x")}, a.now)
			a.wantErr("UpdateProfile", err, auth.ErrUserNotFound)
			_, err = a.s.LinkIdentity(a.ctx, id, auth.ChannelEmail, "a@example.com", a.now)
			a.wantErr("LinkIdentity", err, auth.ErrUserNotFound)
			a.wantErr("DeleteUser", a.s.DeleteUser(a.ctx, id), auth.ErrUserNotFound)
			a.wantErr("CreateRefreshToken", a.s.CreateRefreshToken(a.ctx, a.token(id, uuid())), auth.ErrUserNotFound)
			if err := a.s.RevokeUserFamilies(a.ctx, id, a.now); err != nil {
				a.Errorf("RevokeUserFamilies(unknown): %v", err)
			}
		}
		_, err := a.s.UserByIdentity(a.ctx, auth.ChannelPhone, "+33612345678")
		a.wantErr("UserByIdentity", err, auth.ErrUserNotFound)
	}},

	{"UpdateProfileSetsOnlyGivenFields", func(a *authT) {
		u, _ := a.newUser(fullProfile)
		later := a.at(time.Minute)
		got, err := a.s.UpdateProfile(a.ctx, u.ID, auth.ProfilePatch{DisplayName: ptr("Ada")}, later)
		if err != nil {
			a.Fatalf("UpdateProfile: %v", err)
		}
		want := u
		want.DisplayName = "Ada"
		want.UpdatedAt = later
		if !sameUser(got, want) || !sameUser(a.user(u.ID), want) {
			a.Errorf("after setting the display name: %+v, want %+v", got, want)
		}
		got, err = a.s.UpdateProfile(a.ctx, u.ID, auth.ProfilePatch{
			Bio: ptr(""), Age: ptr(54), Gender: ptr(auth.GenderWoman),
			Interests: ptr([]string{}), PhotoURLs: ptr([]string{"https://x.example/1.png"}),
		}, later)
		if err != nil {
			a.Fatalf("UpdateProfile: %v", err)
		}
		want.Profile = auth.Profile{DisplayName: "Ada", Age: 54, Gender: auth.GenderWoman,
			Interests: []string{}, PhotoURLs: []string{"https://x.example/1.png"}}
		if !sameUser(got, want) || !sameUser(a.user(u.ID), want) {
			a.Errorf("after setting every other field: %+v, want %+v", got, want)
		}
		if got.Interests == nil {
			a.Error("Interests set to empty came back nil")
		}
		got, err = a.s.UpdateProfile(a.ctx, u.ID, auth.ProfilePatch{}, a.at(2*time.Minute))
		want.UpdatedAt = a.at(2 * time.Minute)
		if err != nil || !sameUser(got, want) {
			a.Errorf("empty patch: %+v, %v; want %+v", got, err, want)
		}
	}},

	{"LinkIdentity", func(a *authT) {
		u, _ := a.newUser(auth.Profile{DisplayName: "A"})
		other, _ := a.newUser(auth.Profile{DisplayName: "B"})

		got := a.link(u.ID, auth.ChannelPhone, "+33612345678")
		if got.Phone != "+33612345678" || got.Email != "" || !got.UpdatedAt.Equal(a.at(time.Second)) {
			a.Errorf("after linking a phone: %+v", got)
		}
		got = a.link(u.ID, auth.ChannelEmail, "ada@example.com")
		if got.Phone != "+33612345678" || got.Email != "ada@example.com" {
			a.Errorf("after linking an email: %+v", got)
		}
		if by, err := a.s.UserByIdentity(a.ctx, auth.ChannelEmail, "ada@example.com"); err != nil || !sameUser(by, a.user(u.ID)) {
			a.Errorf("UserByIdentity(email) = %+v, %v", by, err)
		}
		if _, err := a.s.UserByIdentity(a.ctx, auth.ChannelPhone, "ada@example.com"); !errors.Is(err, auth.ErrUserNotFound) {
			a.Errorf("an email looked up as a phone: %v, want ErrUserNotFound", err)
		}
		a.link(u.ID, auth.ChannelPhone, "+33612345678") // again: no error

		_, err := a.s.LinkIdentity(a.ctx, other.ID, auth.ChannelPhone, "+33612345678", a.now)
		a.wantErr("linking another user's phone", err, auth.ErrIdentityTaken)
		if o := a.user(other.ID); o.Phone != "" {
			a.Errorf("the refused link left phone %q", o.Phone)
		}

		// A new phone replaces the old one, which is free again.
		got = a.link(u.ID, auth.ChannelPhone, "+14155550123")
		if got.Phone != "+14155550123" || got.Email != "ada@example.com" {
			a.Errorf("after replacing the phone: %+v", got)
		}
		if _, err := a.s.UserByIdentity(a.ctx, auth.ChannelPhone, "+33612345678"); !errors.Is(err, auth.ErrUserNotFound) {
			a.Errorf("the replaced phone still resolves: %v", err)
		}
		if o := a.link(other.ID, auth.ChannelPhone, "+33612345678"); o.Phone != "+33612345678" {
			a.Errorf("the freed phone was not linked to another user: %+v", o)
		}
	}},

	{"ConcurrentLinksOfOneIdentifier", func(a *authT) {
		const users = 10
		ids := make([]string, users)
		for i := range ids {
			u, _ := a.newUser(auth.Profile{})
			ids[i] = u.ID
		}
		var mu sync.Mutex
		var won []string
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Go(func() {
				_, err := a.s.LinkIdentity(a.ctx, id, auth.ChannelEmail, "shared@example.com", a.now)
				switch {
				case err == nil:
					mu.Lock()
					won = append(won, id)
					mu.Unlock()
				case !errors.Is(err, auth.ErrIdentityTaken):
					a.Errorf("LinkIdentity: %v", err)
				}
			})
		}
		wg.Wait()
		if len(won) != 1 {
			a.Fatalf("%d of %d concurrent links succeeded, want 1", len(won), users)
		}
		if by, err := a.s.UserByIdentity(a.ctx, auth.ChannelEmail, "shared@example.com"); err != nil || by.ID != won[0] {
			a.Errorf("UserByIdentity = %v, %v; want the winner %s", by.ID, err, won[0])
		}
	}},

	{"DeleteUserRemovesEverything", func(a *authT) {
		u, first := a.newUser(fullProfile)
		keep, keepToken := a.newUser(auth.Profile{})
		a.link(u.ID, auth.ChannelPhone, "+33612345678")
		second := a.newFamily(u.ID)
		verify := auth.CodeKey{Purpose: auth.PurposeVerify, Channel: auth.ChannelEmail, Identifier: "a@example.com", UserID: u.ID}
		login := auth.CodeKey{Purpose: auth.PurposeLogin, Channel: auth.ChannelPhone, Identifier: "+33612345678"}
		keepCode := auth.CodeKey{Purpose: auth.PurposeVerify, Channel: auth.ChannelEmail, Identifier: "a@example.com", UserID: keep.ID}
		verifyHash, loginHash, keepHash := a.putCode(verify), a.putCode(login), a.putCode(keepCode)

		if err := a.s.DeleteUser(a.ctx, u.ID); err != nil {
			a.Fatalf("DeleteUser: %v", err)
		}
		_, err := a.s.User(a.ctx, u.ID)
		a.wantErr("User after delete", err, auth.ErrUserNotFound)
		_, err = a.s.UserByIdentity(a.ctx, auth.ChannelPhone, "+33612345678")
		a.wantErr("UserByIdentity after delete", err, auth.ErrUserNotFound)
		a.wantRotateErr("first family after delete", first.Hash, time.Second, auth.ErrRefreshInvalid)
		a.wantRotateErr("second family after delete", second.Hash, time.Second, auth.ErrRefreshInvalid)
		a.wantErr("verify code after delete", a.check(verify, verifyHash, time.Second), auth.ErrCodeInvalid)
		a.wantErr("login code after delete", a.check(login, loginHash, time.Second), auth.ErrCodeInvalid)
		a.wantErr("second DeleteUser", a.s.DeleteUser(a.ctx, u.ID), auth.ErrUserNotFound)

		// The identifier is free, and the other user is untouched.
		a.link(keep.ID, auth.ChannelPhone, "+33612345678")
		a.mustRotate(keepToken.Hash, time.Second, 0, keepToken)
		if err := a.check(keepCode, keepHash, time.Second); err != nil {
			a.Errorf("another user's code after delete: %v", err)
		}
	}},

	{"RotationChain", func(a *authT) {
		_, first := a.newUser(auth.Profile{})
		b := a.mustRotate(first.Hash, time.Second, 0, first)
		c := a.mustRotate(b, 2*time.Second, 0, first)
		d := a.mustRotate(c, 3*time.Second, 0, first)
		a.mustRotate(d, 4*time.Second, 0, first)
	}},

	{"UnknownAndExpiredTokens", func(a *authT) {
		a.wantRotateErr("unknown token", randomBytes(), 0, auth.ErrRefreshInvalid)
		u, _ := a.newUser(auth.Profile{})
		short := a.token(u.ID, uuid())
		short.ExpiresAt = a.at(time.Hour)
		if err := a.s.CreateRefreshToken(a.ctx, short); err != nil {
			a.Fatalf("CreateRefreshToken: %v", err)
		}
		a.wantRotateErr("expired token", short.Hash, time.Hour, auth.ErrRefreshExpired)
		a.wantRotateErr("expired token", short.Hash, 2*time.Hour, auth.ErrRefreshExpired)
		a.mustRotate(short.Hash, time.Hour-time.Millisecond, 0, short)
	}},

	{"ReuseRevokesTheWholeFamily", func(a *authT) {
		u, first := a.newUser(auth.Profile{})
		other := a.newFamily(u.ID)
		b := a.mustRotate(first.Hash, time.Second, 0, first)
		c := a.mustRotate(b, 2*time.Second, 0, first)

		_, rec, err := a.rotate(first.Hash, 3*time.Second, 0)
		if !errors.Is(err, auth.ErrRefreshReused) {
			a.Fatalf("reusing the first token: %v, want ErrRefreshReused", err)
		}
		if rec.UserID != u.ID || rec.FamilyID != first.FamilyID {
			a.Errorf("reuse returned %+v, want the family %s of user %s", rec, first.FamilyID, u.ID)
		}
		// The newest token of the family is revoked, durably.
		a.wantRotateErr("newest token after reuse", c, 4*time.Second, auth.ErrTokenRevoked)
		a.wantRotateErr("reused token again", b, 5*time.Second, auth.ErrRefreshReused)
		// Another family of the same user is untouched.
		a.mustRotate(other.Hash, 6*time.Second, 0, other)
	}},

	{"RevokeTokenFamily", func(a *authT) {
		u, first := a.newUser(auth.Profile{})
		other := a.newFamily(u.ID)
		b := a.mustRotate(first.Hash, time.Second, 0, first)
		if err := a.s.RevokeTokenFamily(a.ctx, b, a.at(2*time.Second)); err != nil {
			a.Fatalf("RevokeTokenFamily: %v", err)
		}
		a.wantRotateErr("token of a revoked family", b, 3*time.Second, auth.ErrTokenRevoked)
		for _, hash := range [][]byte{b, first.Hash, randomBytes()} {
			if err := a.s.RevokeTokenFamily(a.ctx, hash, a.at(4*time.Second)); err != nil {
				a.Errorf("RevokeTokenFamily again or unknown: %v", err)
			}
		}
		a.mustRotate(other.Hash, 5*time.Second, 0, other)
	}},

	{"RevokeUserFamilies", func(a *authT) {
		u, first := a.newUser(auth.Profile{})
		second := a.newFamily(u.ID)
		_, otherFirst := a.newUser(auth.Profile{})
		if err := a.s.RevokeUserFamilies(a.ctx, u.ID, a.at(time.Second)); err != nil {
			a.Fatalf("RevokeUserFamilies: %v", err)
		}
		a.wantRotateErr("first family", first.Hash, 2*time.Second, auth.ErrTokenRevoked)
		a.wantRotateErr("second family", second.Hash, 2*time.Second, auth.ErrTokenRevoked)
		a.mustRotate(otherFirst.Hash, 2*time.Second, 0, otherFirst)
		// A family started afterwards (a new login) works.
		third := a.newFamily(u.ID)
		a.mustRotate(third.Hash, 3*time.Second, 0, third)
	}},

	{"GraceWindow", func(a *authT) {
		const grace = 5 * time.Second
		_, first := a.newUser(auth.Profile{})
		b := a.mustRotate(first.Hash, time.Second, grace, first)
		// The token just rotated, presented again within the window, gets
		// another successor of the same family; so does a third showing.
		c := a.mustRotate(first.Hash, 3*time.Second, grace, first)
		a.mustRotate(first.Hash, 6*time.Second, grace, first)
		// Both successors work.
		a.mustRotate(c, 7*time.Second, grace, first)
		d := a.mustRotate(b, 8*time.Second, grace, first)
		// b has been rotated: first is no longer the immediate predecessor.
		_, _, err := a.rotate(first.Hash, 8*time.Second, grace)
		a.wantErr("a token two rotations back", err, auth.ErrRefreshReused)
		a.wantRotateErr("newest token after reuse", d, 9*time.Second, auth.ErrTokenRevoked)
	}},

	{"GraceWindowEnds", func(a *authT) {
		const grace = 5 * time.Second
		_, first := a.newUser(auth.Profile{})
		b := a.mustRotate(first.Hash, time.Second, grace, first)
		_, _, err := a.rotate(first.Hash, time.Second+grace+time.Millisecond, grace)
		a.wantErr("after the grace window", err, auth.ErrRefreshReused)
		a.wantRotateErr("successor after reuse", b, 10*time.Second, auth.ErrTokenRevoked)
	}},

	{"GraceWindowDoesNotReviveRevokedFamily", func(a *authT) {
		const grace = 5 * time.Second
		_, first := a.newUser(auth.Profile{})
		a.mustRotate(first.Hash, time.Second, grace, first)
		if err := a.s.RevokeTokenFamily(a.ctx, first.Hash, a.at(2*time.Second)); err != nil {
			a.Fatal(err)
		}
		_, _, err := a.rotate(first.Hash, 3*time.Second, grace)
		a.wantErr("a rotated token of a revoked family within the grace window", err, auth.ErrRefreshReused)
	}},

	{"ConcurrentRotationsOfOneToken", func(a *authT) {
		_, first := a.newUser(auth.Profile{})
		const callers = 50
		type result struct {
			next []byte
			err  error
		}
		results := make([]result, callers)
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				next, _, err := a.rotate(first.Hash, time.Second, 0)
				results[i] = result{next, err}
			})
		}
		wg.Wait()
		var winners [][]byte
		for _, r := range results {
			switch {
			case r.err == nil:
				winners = append(winners, r.next)
			case !errors.Is(r.err, auth.ErrRefreshReused):
				a.Errorf("a losing rotation failed with %v, want ErrRefreshReused", r.err)
			}
		}
		if len(winners) != 1 {
			a.Fatalf("%d of %d concurrent rotations of one token succeeded, want exactly 1", len(winners), callers)
		}
		// The losers were reuse: the winner's token is revoked with the family.
		a.wantRotateErr("the winner's token", winners[0], 2*time.Second, auth.ErrTokenRevoked)
	}},

	{"ConcurrentRotationsWithinGrace", func(a *authT) {
		_, first := a.newUser(auth.Profile{})
		const callers = 20
		errs := make([]error, callers)
		nexts := make([][]byte, callers)
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() { nexts[i], _, errs[i] = a.rotate(first.Hash, time.Second, 5*time.Second) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				a.Fatalf("rotation %d within the grace window: %v", i, err)
			}
		}
		for _, next := range nexts {
			a.mustRotate(next, 2*time.Second, 0, first)
		}
	}},

	{"CodeIsSingleUse", func(a *authT) {
		key := auth.CodeKey{Purpose: auth.PurposeLogin, Channel: auth.ChannelEmail, Identifier: "a@example.com"}
		hash := a.putCode(key)
		a.wantErr("wrong code", a.check(key, randomBytes(), time.Second), auth.ErrCodeInvalid)
		if err := a.check(key, hash, time.Second); err != nil {
			a.Fatalf("right code: %v", err)
		}
		a.wantErr("right code again", a.check(key, hash, time.Second), auth.ErrCodeInvalid)
		a.wantErr("no code pending", a.check(auth.CodeKey{Purpose: auth.PurposeLogin, Channel: auth.ChannelEmail, Identifier: "b@example.com"}, hash, 0), auth.ErrCodeInvalid)
	}},

	{"OnlyNewestCodeIsValid", func(a *authT) {
		key := auth.CodeKey{Purpose: auth.PurposeVerify, Channel: auth.ChannelPhone, Identifier: "+33612345678", UserID: uuid()}
		old := a.putCode(key)
		newest := a.putCode(key)
		a.wantErr("the replaced code", a.check(key, old, time.Second), auth.ErrCodeInvalid)
		if err := a.check(key, newest, time.Second); err != nil {
			a.Errorf("the newest code: %v", err)
		}
	}},

	{"CodeAttemptsAreLimited", func(a *authT) {
		key := auth.CodeKey{Purpose: auth.PurposeLogin, Channel: auth.ChannelPhone, Identifier: "+33612345678"}
		hash := a.putCode(key)
		for i := range 5 {
			a.wantErr(fmt.Sprintf("wrong attempt %d", i+1), a.check(key, randomBytes(), time.Second), auth.ErrCodeInvalid)
		}
		a.wantErr("right code after 5 wrong attempts", a.check(key, hash, time.Second), auth.ErrCodeExhausted)
		a.wantErr("wrong code after 5 wrong attempts", a.check(key, randomBytes(), time.Second), auth.ErrCodeExhausted)
		// A new code starts over.
		hash = a.putCode(key)
		a.wantErr("wrong attempt on a new code", a.check(key, randomBytes(), time.Second), auth.ErrCodeInvalid)
		if err := a.check(key, hash, time.Second); err != nil {
			a.Errorf("the new code: %v", err)
		}
	}},

	{"CodeAttemptsAreCountedPerRequester", func(a *authT) {
		key := auth.CodeKey{Purpose: auth.PurposeLogin, Channel: auth.ChannelEmail, Identifier: "victim@example.com"}
		hash := a.putCode(key)
		for i := range maxAttempts {
			a.wantErr(fmt.Sprintf("stranger's wrong attempt %d", i+1), a.checkFrom("203.0.113.66", key, randomBytes(), time.Second), auth.ErrCodeInvalid)
		}
		a.wantErr("the right code from the stranger", a.checkFrom("203.0.113.66", key, hash, time.Second), auth.ErrCodeExhausted)
		// The empty requester is one requester like any other.
		a.wantErr("a wrong attempt from an unknown address", a.checkFrom("", key, randomBytes(), time.Second), auth.ErrCodeInvalid)
		if err := a.checkFrom("198.51.100.20", key, hash, time.Second); err != nil {
			a.Errorf("the right code from another requester: %v", err)
		}
	}},

	{"CodeTotalAttemptsAreLimited", func(a *authT) {
		key := auth.CodeKey{Purpose: auth.PurposeVerify, Channel: auth.ChannelPhone, Identifier: "+33612345678", UserID: uuid()}
		hash := a.putCode(key)
		for i := range maxTotalAttempts {
			requester := fmt.Sprintf("192.0.2.%d", 10+i%3)
			a.wantErr(fmt.Sprintf("wrong attempt %d", i+1), a.checkFrom(requester, key, randomBytes(), time.Second), auth.ErrCodeInvalid)
		}
		a.wantErr("the right code from a fresh requester after the ceiling", a.checkFrom("198.51.100.20", key, hash, time.Second), auth.ErrCodeExhausted)
		// A new code starts over, for every requester.
		hash = a.putCode(key)
		a.wantErr("a wrong attempt on a new code", a.checkFrom("192.0.2.10", key, randomBytes(), time.Second), auth.ErrCodeInvalid)
		if err := a.checkFrom("192.0.2.11", key, hash, time.Second); err != nil {
			a.Errorf("the new code: %v", err)
		}
	}},

	{"ConcurrentCodeChecksFromManyRequesters", func(a *authT) {
		key := auth.CodeKey{Purpose: auth.PurposeLogin, Channel: auth.ChannelEmail, Identifier: "many@example.com"}
		hash := a.putCode(key)
		const callers = 30
		var mu sync.Mutex
		counts := map[string]int{}
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				err := a.checkFrom(fmt.Sprintf("192.0.2.%d", i%4), key, randomBytes(), time.Second)
				mu.Lock()
				counts[errName(err)]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if counts["CODE_INVALID"] != maxTotalAttempts || counts["CODE_ATTEMPTS_EXCEEDED"] != callers-maxTotalAttempts {
			a.Errorf("outcomes of %d concurrent wrong attempts from 4 requesters: %v, want %d CODE_INVALID", callers, counts, maxTotalAttempts)
		}
		a.wantErr("the right code after the concurrent attempts", a.checkFrom("198.51.100.20", key, hash, time.Second), auth.ErrCodeExhausted)
	}},

	{"CodeExpires", func(a *authT) {
		key := auth.CodeKey{Purpose: auth.PurposeLogin, Channel: auth.ChannelEmail, Identifier: "a@example.com"}
		hash := a.putCode(key)
		a.wantErr("right code at expiry", a.check(key, hash, 10*time.Minute), auth.ErrCodeExpired)
		a.wantErr("wrong code after expiry", a.check(key, randomBytes(), time.Hour), auth.ErrCodeExpired)
		if err := a.check(key, hash, 10*time.Minute-time.Millisecond); err != nil {
			a.Errorf("right code just before expiry: %v", err)
		}
	}},

	{"CodeKeysAreIndependent", func(a *authT) {
		user := uuid()
		keys := []auth.CodeKey{
			{Purpose: auth.PurposeLogin, Channel: auth.ChannelEmail, Identifier: "a@example.com"},
			{Purpose: auth.PurposeVerify, Channel: auth.ChannelEmail, Identifier: "a@example.com", UserID: user},
			{Purpose: auth.PurposeVerify, Channel: auth.ChannelEmail, Identifier: "a@example.com", UserID: uuid()},
			{Purpose: auth.PurposeVerify, Channel: auth.ChannelEmail, Identifier: "b@example.com", UserID: user},
			{Purpose: auth.PurposeVerify, Channel: auth.ChannelPhone, Identifier: "a@example.com", UserID: user},
		}
		hashes := make([][]byte, len(keys))
		for i, k := range keys {
			hashes[i] = a.putCode(k)
		}
		for i, k := range keys {
			a.wantErr(fmt.Sprintf("key %d with the next key's code", i), a.check(k, hashes[(i+1)%len(keys)], time.Second), auth.ErrCodeInvalid)
		}
		for i, k := range keys {
			if err := a.check(k, hashes[i], time.Second); err != nil {
				a.Errorf("key %d: %v", i, err)
			}
		}
	}},

	{"ConcurrentCodeChecks", func(a *authT) {
		right := auth.CodeKey{Purpose: auth.PurposeLogin, Channel: auth.ChannelEmail, Identifier: "right@example.com"}
		wrong := auth.CodeKey{Purpose: auth.PurposeLogin, Channel: auth.ChannelEmail, Identifier: "wrong@example.com"}
		hash := a.putCode(right)
		a.putCode(wrong)
		const callers = 20
		var mu sync.Mutex
		counts := map[string]int{}
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				errRight := a.check(right, hash, time.Second)
				errWrong := a.check(wrong, randomBytes(), time.Second)
				mu.Lock()
				defer mu.Unlock()
				counts["right:"+errName(errRight)]++
				counts["wrong:"+errName(errWrong)]++
			})
		}
		wg.Wait()
		want := map[string]int{
			"right:ok": 1, "right:CODE_INVALID": callers - 1,
			"wrong:CODE_INVALID": maxAttempts, "wrong:CODE_ATTEMPTS_EXCEEDED": callers - maxAttempts,
		}
		for k, n := range want {
			if counts[k] != n {
				a.Errorf("outcomes of %d concurrent checks: %v, want %v", callers, counts, want)
				break
			}
		}
	}},

	{"DeleteExpired", func(a *authT) {
		u, live := a.newUser(auth.Profile{})
		short := a.token(u.ID, uuid())
		short.ExpiresAt = a.at(time.Hour)
		if err := a.s.CreateRefreshToken(a.ctx, short); err != nil {
			a.Fatal(err)
		}
		oldKey := auth.CodeKey{Purpose: auth.PurposeLogin, Channel: auth.ChannelEmail, Identifier: "old@example.com"}
		oldCode := a.putCode(oldKey)
		newKey := auth.CodeKey{Purpose: auth.PurposeLogin, Channel: auth.ChannelEmail, Identifier: "new@example.com"}
		newCode := randomBytes()
		if err := a.s.PutCode(a.ctx, auth.VerificationCode{Key: newKey, Hash: newCode, CreatedAt: a.at(time.Hour), ExpiresAt: a.at(2 * time.Hour)}); err != nil {
			a.Fatal(err)
		}
		if err := a.s.DeleteExpired(a.ctx, a.at(time.Hour)); err != nil {
			a.Fatalf("DeleteExpired: %v", err)
		}
		a.wantRotateErr("a deleted token", short.Hash, time.Hour, auth.ErrRefreshInvalid)
		a.wantErr("a deleted code", a.check(oldKey, oldCode, time.Hour), auth.ErrCodeInvalid)
		a.mustRotate(live.Hash, time.Hour, 0, live)
		if err := a.check(newKey, newCode, time.Hour); err != nil {
			a.Errorf("a live code after DeleteExpired: %v", err)
		}
	}},
}

func errName(err error) string {
	if err == nil {
		return "ok"
	}
	return rv.CodeOf(err)
}

func randomBytes() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// uuid returns a random version-4 UUID.
func uuid() string {
	b := randomBytes()[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
