/**
 * What a factory reset erases and what it keeps (docs/HARDWARE.md "Factory
 * reset"). The rule: everything that identifies the practice or holds
 * patient data goes, and so does the box's identity, so it comes back as it
 * left the factory and shows a new claim code; what runs (the installed
 * software, the boot slots and which one is booted or committed, the
 * read-only root) and what the box is (its board) stay.
 *
 * The data directory is erased by exclusion: everything in it goes except
 * DATA_DIR_KEEP, so a file a later feature adds is erased without anyone
 * remembering to list it here. KNOWN_DATA_DIR_ENTRIES is what the gateway
 * writes there today, for the docs and the tests.
 */

/** The marker written before anything is erased and removed after the last step. */
export const RESET_MARKER_FILE = 'factory-reset.pending';

/** The running gateway's local control socket (firmware/src/wiring/control-socket.ts). */
export const CONTROL_SOCKET_FILE = 'control.sock';

/** Entries of the data directory a reset keeps, each with the reason. */
export const DATA_DIR_KEEP: ReadonlyArray<{ name: string; why: string }> = [
  {
    name: 'slots-sim',
    why: "the file slot backend's slots and its record of which slot is booted and committed (generic and dev-sim boards): a reset never changes what software runs",
  },
  { name: RESET_MARKER_FILE, why: 'the reset-pending marker itself, removed as the last step' },
  { name: CONTROL_SOCKET_FILE, why: "the running gateway's control socket (no data; gone with the process)" },
];

/** What the gateway writes in its data directory today (all erased). */
export const KNOWN_DATA_DIR_ENTRIES: ReadonlyArray<{ name: string; what: string }> = [
  { name: 'practice.json', what: 'the practice store: the applied practice config and the one before it (last known good), with SIP passwords' },
  { name: 'practice.json.v*.bak, .corrupt-*, .invalid-*', what: 'copies of the store kept by migrations and recovery' },
  { name: 'sync/cdr-outbox.jsonl', what: 'call records (numbers, times) not yet acknowledged by the cloud' },
  { name: 'ota/state.json, ota/download-*.bundle', what: "the update agent's record and downloads (a reset is refused while an update touches the slots)" },
  { name: 'recordings/', what: 'call recordings (patient data)' },
  { name: 'voicemail/', what: 'voicemail messages and greetings (patient data)' },
];

/**
 * Keys whose string values name files holding per-device or per-practice
 * secrets or certificates (device.cloud.mqtt, practice.sip.listen[].tls,
 * practice.uplinks.*.tls). Such a file is erased when it lies in the box's
 * writable config area (the gateway file's directory, the data or identity
 * directory), never elsewhere (an image's read-only /etc, a developer's tree).
 */
export const FILE_REFERENCE_KEYS = ['ca', 'cert', 'key'] as const;

/** Fields of `device` that a reset writes back into the gateway file; every other field goes. */
export const DEVICE_FIELDS_KEPT: ReadonlyArray<{ field: string; why: string }> = [
  { field: 'board', why: 'what the box is (its board profile): the same as first boot writes from /etc/pgw/board' },
  { field: 'admin', why: 'where the installer reaches the local admin API; not about the practice' },
  { field: 'ota', why: 'how this box verifies and installs updates (trusted keys, slot backend): part of the installed software' },
];

/** OTA agent states in which a reset is refused: a slot is being written, armed or on trial. */
export const OTA_STATES_BLOCKING_RESET: readonly string[] = ['installing', 'rebooting', 'trial', 'rolling-back'];
