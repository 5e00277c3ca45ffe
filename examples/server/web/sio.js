// A small Socket.IO client for the browser: Engine.IO v4 over WebSocket
// only, Socket.IO v5 packets, several namespaces over one connection, and
// reconnection with exponential back-off. Text packets only (no binary
// attachments), which is all the rendezvous server sends.

const EIO_OPEN = "0";
const EIO_CLOSE = "1";
const EIO_PING = "2";
const EIO_PONG = "3";
const EIO_MESSAGE = "4";

const SIO_CONNECT = "0";
const SIO_DISCONNECT = "1";
const SIO_EVENT = "2";
const SIO_ACK = "3";
const SIO_CONNECT_ERROR = "4";

/** Tiny event emitter shared by Manager and Socket. */
class Emitter {
  #handlers = new Map();
  on(name, fn) {
    if (!this.#handlers.has(name)) this.#handlers.set(name, new Set());
    this.#handlers.get(name).add(fn);
    return this;
  }
  off(name, fn) {
    this.#handlers.get(name)?.delete(fn);
    return this;
  }
  fire(name, ...args) {
    for (const fn of [...(this.#handlers.get(name) ?? [])]) {
      try {
        fn(...args);
      } catch (err) {
        console.error(`handler of ${name} failed`, err);
      }
    }
  }
}

/**
 * Parses a Socket.IO packet (the text after the Engine.IO "4"):
 * <type>[/<nsp>,][<id>][<json>].
 */
export function decodePacket(text) {
  const type = text[0];
  let i = 1;
  let nsp = "/";
  if (text[i] === "/") {
    const comma = text.indexOf(",", i);
    if (comma < 0) {
      nsp = text.slice(i);
      i = text.length;
    } else {
      nsp = text.slice(i, comma);
      i = comma + 1;
    }
  }
  let id;
  const start = i;
  while (i < text.length && text[i] >= "0" && text[i] <= "9") i++;
  if (i > start) id = Number(text.slice(start, i));
  const data = i < text.length ? JSON.parse(text.slice(i)) : undefined;
  return { type, nsp, id, data };
}

/** Encodes a Socket.IO packet for namespace nsp. */
export function encodePacket(type, nsp, data, id) {
  let out = type;
  if (nsp !== "/") out += nsp + ",";
  if (id !== undefined) out += String(id);
  if (data !== undefined) out += JSON.stringify(data);
  return out;
}

/** The WebSocket address of the Socket.IO endpoint of this page's host. */
export function defaultURL(path = "/socket.io/") {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}?EIO=4&transport=websocket`;
}

/**
 * One Engine.IO connection carrying the sockets of several namespaces.
 * Events: "open", "close" (reason), "reconnect_attempt" (n).
 */
export class Manager extends Emitter {
  constructor(url = defaultURL(), { reconnectionDelay = 500, reconnectionDelayMax = 5000 } = {}) {
    super();
    this.url = url;
    this.reconnectionDelay = reconnectionDelay;
    this.reconnectionDelayMax = reconnectionDelayMax;
    this.sockets = new Map();
    this.ws = null;
    this.isOpen = false;
    this.attempts = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.pingDeadline = 0;
  }

  /** The socket of namespace nsp (created on first use, not connected). */
  socket(nsp, { auth } = {}) {
    let s = this.sockets.get(nsp);
    if (!s) {
      s = new Socket(this, nsp, auth);
      this.sockets.set(nsp, s);
    } else if (auth !== undefined) {
      s.auth = auth;
    }
    return s;
  }

  /** Opens the connection unless it is open or opening. */
  open() {
    if (this.ws || this.retryTimer) return;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onmessage = (ev) => this.#onMessage(String(ev.data));
    ws.onclose = () => this.#onClose(ws, "transport close");
    ws.onerror = () => {
      // A close event always follows.
    };
  }

  /** Closes the connection for good (until a socket connects again). */
  close() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const ws = this.ws;
    if (ws) {
      this.#onClose(ws, "io client disconnect");
      ws.close();
    }
  }

  send(packet) {
    if (this.ws && this.isOpen) this.ws.send(EIO_MESSAGE + packet);
  }

  /** Stops when no socket wants to be connected. */
  maybeClose() {
    for (const s of this.sockets.values()) if (s.active) return;
    this.close();
  }

  #onMessage(text) {
    switch (text[0]) {
      case EIO_OPEN: {
        const hs = JSON.parse(text.slice(1));
        this.isOpen = true;
        this.attempts = 0;
        this.pingWindow = (hs.pingInterval ?? 25000) + (hs.pingTimeout ?? 20000);
        this.#armPing();
        this.fire("open");
        for (const s of this.sockets.values()) if (s.active) s.sendConnect();
        break;
      }
      case EIO_PING:
        this.#armPing();
        this.ws?.send(EIO_PONG);
        break;
      case EIO_CLOSE:
        this.ws?.close();
        break;
      case EIO_MESSAGE: {
        let p;
        try {
          p = decodePacket(text.slice(1));
        } catch (err) {
          console.error("bad Socket.IO packet", err);
          return;
        }
        this.sockets.get(p.nsp)?.onPacket(p);
        break;
      }
      default:
        break;
    }
  }

  #armPing() {
    clearTimeout(this.pingTimer);
    const ws = this.ws;
    this.pingTimer = setTimeout(() => {
      if (this.ws === ws) ws.close();
    }, this.pingWindow);
  }

  #onClose(ws, reason) {
    if (this.ws !== ws) return;
    this.ws = null;
    this.isOpen = false;
    clearTimeout(this.pingTimer);
    for (const s of this.sockets.values()) s.onTransportClose(reason);
    this.fire("close", reason);
    if (reason !== "io client disconnect" && [...this.sockets.values()].some((s) => s.active)) {
      this.#scheduleRetry();
    }
  }

  #scheduleRetry() {
    this.attempts++;
    const base = Math.min(this.reconnectionDelayMax, this.reconnectionDelay * 2 ** (this.attempts - 1));
    const delay = base / 2 + Math.random() * (base / 2);
    this.fire("reconnect_attempt", this.attempts);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.open();
    }, delay);
  }
}

/**
 * A socket of one namespace. Events: "connect", "disconnect" (reason),
 * "connect_error" (Error with .data), and the server's own events.
 */
export class Socket extends Emitter {
  constructor(manager, nsp, auth) {
    super();
    this.manager = manager;
    this.nsp = nsp;
    this.auth = auth;
    this.id = undefined;
    this.connected = false;
    this.active = false;
    this.nextAck = 0;
    this.acks = new Map();
    this.buffer = [];
  }

  /** Connects (and keeps reconnecting after a lost connection). */
  connect() {
    if (this.active) return this;
    this.active = true;
    if (this.manager.isOpen) this.sendConnect();
    else this.manager.open();
    return this;
  }

  /** Leaves the namespace; the connection closes once no socket is left. */
  disconnect() {
    if (this.connected) this.manager.send(encodePacket(SIO_DISCONNECT, this.nsp));
    const was = this.connected;
    this.active = false;
    this.connected = false;
    this.buffer = [];
    if (was) this.fire("disconnect", "io client disconnect");
    this.manager.maybeClose();
    return this;
  }

  /** Resolves once connected; rejects on a connect error. */
  ready() {
    if (this.connected) return Promise.resolve(this);
    return new Promise((resolve, reject) => {
      const ok = () => {
        this.off("connect", ok).off("connect_error", ko);
        resolve(this);
      };
      const ko = (err) => {
        this.off("connect", ok).off("connect_error", ko);
        reject(err);
      };
      this.on("connect", ok).on("connect_error", ko);
      this.connect();
    });
  }

  /**
   * Sends an event; a function as the last argument receives the
   * server's acknowledgement. Events sent while disconnected are sent
   * after the next connect.
   */
  emit(name, ...args) {
    let id;
    if (typeof args[args.length - 1] === "function") {
      id = this.nextAck++;
      this.acks.set(id, args.pop());
    }
    const packet = encodePacket(SIO_EVENT, this.nsp, [name, ...args], id);
    if (this.connected) this.manager.send(packet);
    else this.buffer.push(packet);
    return this;
  }

  async sendConnect() {
    let auth = this.auth;
    if (typeof auth === "function") auth = await auth();
    if (!this.active || !this.manager.isOpen) return;
    this.manager.send(encodePacket(SIO_CONNECT, this.nsp, auth ?? undefined));
  }

  onPacket(p) {
    switch (p.type) {
      case SIO_CONNECT:
        this.id = p.data?.sid;
        this.connected = true;
        for (const packet of this.buffer.splice(0)) this.manager.send(packet);
        this.fire("connect");
        break;
      case SIO_CONNECT_ERROR: {
        this.active = false;
        const err = new Error(p.data?.message ?? "connect error");
        err.data = p.data?.data;
        this.fire("connect_error", err);
        this.manager.maybeClose();
        break;
      }
      case SIO_EVENT:
        if (Array.isArray(p.data) && p.data.length > 0) {
          const [name, ...args] = p.data;
          if (p.id !== undefined) args.push((...res) => this.manager.send(encodePacket(SIO_ACK, this.nsp, res, p.id)));
          this.fire(name, ...args);
        }
        break;
      case SIO_ACK: {
        const fn = this.acks.get(p.id);
        this.acks.delete(p.id);
        if (fn) fn(...(Array.isArray(p.data) ? p.data : []));
        break;
      }
      case SIO_DISCONNECT:
        // The server disconnected this socket: no automatic reconnection.
        this.active = false;
        this.connected = false;
        this.fire("disconnect", "io server disconnect");
        this.manager.maybeClose();
        break;
      default:
        break;
    }
  }

  onTransportClose(reason) {
    this.acks.clear();
    if (!this.connected) return;
    this.connected = false;
    this.fire("disconnect", reason);
  }
}
