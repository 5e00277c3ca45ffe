package socketio

import (
	"encoding/json"
	"errors"
	"strconv"
)

// Socket.IO v5 packet types.
const (
	sioConnect      byte = 0
	sioDisconnect   byte = 1
	sioEvent        byte = 2
	sioAck          byte = 3
	sioConnectError byte = 4
	sioBinaryEvent  byte = 5
	sioBinaryAck    byte = 6
)

const (
	// maxAttachments bounds the number of binary attachments of one packet
	// (the default of the reference parser).
	maxAttachments = 10
	// maxAckID is the largest acknowledgement id accepted (largest integer a
	// JavaScript number represents exactly).
	maxAckID = 1<<53 - 1
)

var (
	errSioEmpty          = errors.New("socketio: empty socket.io packet")
	errSioType           = errors.New("socketio: unknown socket.io packet type")
	errSioAttachments    = errors.New("socketio: illegal attachments")
	errSioTooManyAttach  = errors.New("socketio: too many attachments")
	errSioAckID          = errors.New("socketio: invalid ack id")
	errSioPayload        = errors.New("socketio: invalid payload")
	errSioMissingPayload = errors.New("socketio: missing payload")
	errSioReservedEvent  = errors.New("socketio: reserved event name")
)

// socketPacket is one decoded Socket.IO packet.
type socketPacket struct {
	Type        byte
	Nsp         string
	ID          uint64
	HasID       bool
	Attachments int
	// Data is the raw JSON payload (nil when absent). After decoding it
	// aliases the input buffer.
	Data []byte
	// Event is the event name of an EVENT/BINARY_EVENT packet.
	Event string
	// Args holds the arguments after the event name (EVENT) or all the
	// arguments (ACK). They never alias the input buffer.
	Args []json.RawMessage
	// Binary holds the attachments of a BINARY_EVENT/BINARY_ACK packet once
	// they have all been received.
	Binary [][]byte
}

func isBinaryType(t byte) bool { return t == sioBinaryEvent || t == sioBinaryAck }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// decodeSocketPacket strictly decodes the text part of a Socket.IO packet:
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
// It never panics; any deviation from the format is reported as an error.
func decodeSocketPacket(b []byte) (*socketPacket, error) {
	if len(b) == 0 {
		return nil, errSioEmpty
	}
	if b[0] < '0' || b[0] > '6' {
		return nil, errSioType
	}
	p := &socketPacket{Type: b[0] - '0', Nsp: "/"}
	i := 1

	if isBinaryType(p.Type) {
		start := i
		n := 0
		for i < len(b) && isDigit(b[i]) {
			n = n*10 + int(b[i]-'0')
			i++
			if n > maxAttachments {
				return nil, errSioTooManyAttach
			}
		}
		if i == start || i >= len(b) || b[i] != '-' {
			return nil, errSioAttachments
		}
		i++
		p.Attachments = n
	}

	if i < len(b) && b[i] == '/' {
		start := i
		for i < len(b) && b[i] != ',' {
			i++
		}
		p.Nsp = string(b[start:i])
		if i < len(b) {
			i++ // the comma
		}
	}

	if i < len(b) && isDigit(b[i]) {
		var id uint64
		for i < len(b) && isDigit(b[i]) {
			id = id*10 + uint64(b[i]-'0')
			if id > maxAckID {
				return nil, errSioAckID
			}
			i++
		}
		p.ID, p.HasID = id, true
	}

	if i < len(b) {
		p.Data = b[i:]
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// validate checks the payload against the packet type and, for events and
// acknowledgements, splits it into arguments.
func (p *socketPacket) validate() error {
	data := p.Data
	switch p.Type {
	case sioConnect:
		if data == nil {
			return nil
		}
		if firstNonSpace(data) != '{' || !json.Valid(data) {
			return errSioPayload
		}
	case sioDisconnect:
		if data != nil {
			return errSioPayload
		}
	case sioConnectError:
		if data == nil {
			return errSioMissingPayload
		}
		if c := firstNonSpace(data); (c != '{' && c != '"') || !json.Valid(data) {
			return errSioPayload
		}
	case sioEvent, sioBinaryEvent:
		if data == nil {
			return errSioMissingPayload
		}
		args, err := splitArray(data)
		if err != nil {
			return err
		}
		if len(args) == 0 || len(args[0]) == 0 || args[0][0] != '"' {
			return errSioPayload
		}
		var name string
		if err := json.Unmarshal(args[0], &name); err != nil {
			return errSioPayload
		}
		if isReservedEvent(name) {
			return errSioReservedEvent
		}
		p.Event = name
		p.Args = args[1:]
	case sioAck, sioBinaryAck:
		if data == nil {
			return errSioMissingPayload
		}
		args, err := splitArray(data)
		if err != nil {
			return err
		}
		p.Args = args
	default:
		return errSioType
	}
	return nil
}

// splitArray decodes a JSON array into copies of its raw elements.
func splitArray(data []byte) ([]json.RawMessage, error) {
	if firstNonSpace(data) != '[' {
		return nil, errSioPayload
	}
	var args []json.RawMessage
	if err := json.Unmarshal(data, &args); err != nil {
		return nil, errSioPayload
	}
	if args == nil {
		args = []json.RawMessage{}
	}
	return args, nil
}

func firstNonSpace(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

// isReservedEvent reports names that the reference implementation refuses as
// event names because they have a special meaning.
func isReservedEvent(name string) bool {
	switch name {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}

// appendSocketPacket appends the text encoding of p (without the Engine.IO
// message prefix).
func appendSocketPacket(dst []byte, p *socketPacket) []byte {
	dst = append(dst, '0'+p.Type)
	if isBinaryType(p.Type) {
		dst = strconv.AppendInt(dst, int64(p.Attachments), 10)
		dst = append(dst, '-')
	}
	if p.Nsp != "" && p.Nsp != "/" {
		dst = append(dst, p.Nsp...)
		dst = append(dst, ',')
	}
	if p.HasID {
		dst = strconv.AppendUint(dst, p.ID, 10)
	}
	return append(dst, p.Data...)
}

// encodeMessage returns a complete Engine.IO message packet ("4" prefix)
// carrying a Socket.IO packet. id < 0 means no acknowledgement id.
func encodeMessage(typ byte, nsp string, id int64, data []byte) []byte {
	return encodeBinaryMessage(typ, nsp, id, 0, data)
}

// encodeBinaryMessage is encodeMessage for packets announcing attachments
// (BINARY_EVENT, BINARY_ACK).
func encodeBinaryMessage(typ byte, nsp string, id int64, attachments int, data []byte) []byte {
	p := socketPacket{Type: typ, Nsp: nsp, Data: data, Attachments: attachments}
	if id >= 0 {
		p.ID, p.HasID = uint64(id), true
	}
	dst := make([]byte, 0, 2+len(nsp)+1+20+len(data))
	dst = append(dst, eioMessage)
	return appendSocketPacket(dst, &p)
}
