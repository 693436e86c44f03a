/**
 * The physical baseline for shipping: one verified TLS connection, written as
 * fast as the socket takes it (waiting for 'drain' when Node's buffer is
 * full), then closed. Nothing is confirmed per page: this is what the product
 * would do if it gave up knowing what was delivered.
 */
import tls from 'node:tls';

export class RawTlsWriter {
  private failure: Error | undefined;

  private constructor(private readonly socket: tls.TLSSocket) {
    socket.on('error', (error) => {
      this.failure ??= error;
    });
  }

  /** Connects with the same trust as the product: system roots plus NODE_EXTRA_CA_CERTS, host verified. */
  static connect(host: string, port: number): Promise<RawTlsWriter> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host, port, rejectUnauthorized: true, minVersion: 'TLSv1.2' });
      socket.once('secureConnect', () => {
        socket.off('error', reject);
        resolve(new RawTlsWriter(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Queues `data`; resolves at once while Node's write buffer has room, else on 'drain'. */
  write(data: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.socket.write(data)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = (): void => {
        this.socket.off('close', onClose);
        resolve();
      };
      const onClose = (): void => {
        this.socket.off('drain', onDrain);
        reject(this.failure ?? new Error('connection closed while writing'));
      };
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  /** Sends close_notify + FIN and resolves when the receiver has closed its side too. */
  end(): Promise<void> {
    return new Promise((resolve, reject) => {
      const settle = (): void => (this.failure ? reject(this.failure) : resolve());
      if (this.socket.closed) return settle();
      this.socket.once('close', settle);
      // Keep reading so the receiver's own close is seen.
      this.socket.resume();
      this.socket.end();
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}
