// Camera capture for video frames: getUserMedia video (or any canvas) → JPEG at a fixed rate.

/**
 * @typedef {object} CameraOptions
 * @property {number} framesPerSecond how many frames to take per second (the server's `video_frames_per_second`)
 * @property {(image: Uint8Array, mimeType: string) => void} onFrame called with each encoded frame
 * @property {number} [maxSize] the longer side of a frame, in pixels; larger pictures are scaled down (768)
 * @property {number} [quality] JPEG quality, 0..1 (0.7)
 * @property {MediaTrackConstraints} [constraints] video constraints for getUserMedia (the back camera by default)
 * @property {HTMLCanvasElement | OffscreenCanvas | HTMLVideoElement} [source] take frames from this element
 *   instead of the camera (a canvas the app draws on, a video it plays)
 * @property {() => Promise<Blob | Uint8Array | null>} [grab] take frames with this function instead (tests,
 *   custom sources): it returns an encoded JPEG, or null to skip the tick
 */

export class Camera {
  /** @type {MediaStream | null} */
  #stream = null;
  /** @type {HTMLVideoElement | null} */
  #video = null;
  /** @type {ReturnType<typeof setInterval> | null} */
  #timer = null;
  #busy = false;
  #options;

  /** Frames taken and handed to `onFrame`, and ticks skipped because the previous frame was still being encoded. */
  stats = { frames: 0, skipped: 0 };

  /** @param {CameraOptions} options */
  constructor(options) {
    if (!(options.framesPerSecond > 0)) throw new RangeError('framesPerSecond must be greater than 0.');
    this.#options = { maxSize: 768, quality: 0.7, ...options };
  }

  /** Whether frames are being taken. */
  get active() {
    return this.#timer !== null;
  }

  /** The camera's stream while it runs (for a preview: `video.srcObject = camera.stream`), else null. */
  get stream() {
    return this.#stream;
  }

  /** Asks for the camera (unless a source or grab function was given) and starts taking frames. */
  async start() {
    if (this.#timer) return;
    if (!this.#options.grab && !this.#options.source) {
      this.#stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: 'environment', width: { ideal: 1280 }, height: { ideal: 720 }, ...this.#options.constraints },
      });
      const video = document.createElement('video');
      video.muted = true;
      video.playsInline = true;
      video.srcObject = this.#stream;
      try {
        await video.play();
      } catch (error) {
        this.stop();
        throw error;
      }
      this.#video = video;
    }
    this.#timer = setInterval(() => void this.#tick(), 1000 / this.#options.framesPerSecond);
    void this.#tick(); // the first frame at once: the user just pointed the camera
  }

  /** Stops taking frames and releases the camera. */
  stop() {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const track of this.#stream?.getTracks() ?? []) track.stop();
    this.#stream = null;
    if (this.#video) this.#video.srcObject = null;
    this.#video = null;
  }

  async #tick() {
    // A slow encoder skips ticks rather than queueing frames: the rate is an upper bound.
    if (this.#busy) {
      this.stats.skipped++;
      return;
    }
    this.#busy = true;
    try {
      const grabbed = await (this.#options.grab ? this.#options.grab() : this.#encode());
      if (!grabbed || !this.#timer) return;
      const image = grabbed instanceof Uint8Array ? grabbed : new Uint8Array(await grabbed.arrayBuffer());
      this.stats.frames++;
      this.#options.onFrame(image, 'image/jpeg');
    } finally {
      this.#busy = false;
    }
  }

  /** @returns {Promise<Blob | null>} */
  async #encode() {
    const source = this.#options.source ?? this.#video;
    if (!source) return null;
    const width = 'videoWidth' in source ? source.videoWidth : source.width;
    const height = 'videoHeight' in source ? source.videoHeight : source.height;
    if (!width || !height) return null; // the camera has no picture yet
    const scale = Math.min(1, this.#options.maxSize / Math.max(width, height));
    const w = Math.round(width * scale);
    const h = Math.round(height * scale);
    const quality = this.#options.quality;
    if (typeof OffscreenCanvas !== 'undefined') {
      const canvas = new OffscreenCanvas(w, h);
      canvas.getContext('2d')?.drawImage(/** @type {CanvasImageSource} */ (source), 0, 0, w, h);
      return canvas.convertToBlob({ type: 'image/jpeg', quality });
    }
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    canvas.getContext('2d')?.drawImage(/** @type {CanvasImageSource} */ (source), 0, 0, w, h);
    return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
  }
}
