package rooms

import rv "github.com/rendezvous-go/rendezvous"

// Errors returned by Service and Store. Compare with errors.Is; the Code
// of each reaches clients unchanged (REST "code" field, error:room events,
// CONNECT_ERROR data.code).
var (
	ErrRoomNotFound         = rv.E(rv.KindNotFound, "ROOM_NOT_FOUND", "room not found")
	ErrMemberNotFound       = rv.E(rv.KindNotFound, "MEMBER_NOT_FOUND", "user is not a member of the room")
	ErrRoomLocked           = rv.E(rv.KindInvalid, "ROOM_LOCKED", "room is locked")
	ErrRoomFull             = rv.E(rv.KindInvalid, "ROOM_FULL", "room is full")
	ErrNotHost              = rv.E(rv.KindForbidden, "NOT_HOST", "only the host can do this")
	ErrAlreadyHost          = rv.E(rv.KindInvalid, "ALREADY_HOST", "user is already the host")
	ErrCannotKickSelf       = rv.E(rv.KindInvalid, "CANNOT_KICK_SELF", "the host cannot kick themselves")
	ErrInvalidDisplayName   = rv.E(rv.KindInvalid, "INVALID_DISPLAY_NAME", "displayName is invalid")
	ErrInvalidMaxUsers      = rv.E(rv.KindInvalid, "INVALID_MAX_USERS", "maxUsers is invalid")
	ErrCodeGenerationFailed = rv.E(rv.KindUnavailable, "ROOM_CODE_GENERATION_FAILED", "no free room code was found; try again")
	ErrCodeTaken            = rv.E(rv.KindConflict, "ROOM_CODE_TAKEN", "room code is in use")
	ErrInvalidPayload       = rv.E(rv.KindInvalid, "INVALID_PAYLOAD", "the event payload is invalid")
	ErrTokenRoomMismatch    = rv.E(rv.KindForbidden, "TOKEN_ROOM_MISMATCH", "the token belongs to another room")
)
