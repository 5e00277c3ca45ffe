package matchmaking

import rv "github.com/rendezvous-go/rendezvous"

// Errors of package matchmaking, compared with errors.Is.
var (
	// ErrInvalidRegion: the region is not 1 to MaxRegionLen characters of
	// [a-z0-9_-] after trimming and lower-casing.
	ErrInvalidRegion = rv.E(rv.KindInvalid, "INVALID_REGION", "region must be 1 to 32 characters of a-z, 0-9, _ and -")
	// ErrInvalidPreferences: preferences is not a JSON object of at most
	// MaxPreferenceKeys keys whose values are strings, numbers, booleans
	// or arrays of strings.
	ErrInvalidPreferences = rv.E(rv.KindInvalid, "INVALID_PREFERENCES", "preferences must be an object of at most 16 keys whose values are strings, numbers, booleans or arrays of strings")
	// ErrAlreadyInSession: the user has a live session, an open choice
	// window, or a pair being started.
	ErrAlreadyInSession = rv.E(rv.KindConflict, "ALREADY_IN_SESSION", "you are already in a session")
	// ErrEntryGone is returned by Store.Activate when the joining entry is
	// no longer there (the sweep discarded it).
	ErrEntryGone = rv.E(rv.KindConflict, "QUEUE_ENTRY_GONE", "the queue entry is gone; try joining again")
)
