/** Errors raised by the library for bad input; the message names the argument, what was expected and what came. */
export class IcnnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IcnnError';
  }
}

export function fail(message: string): never {
  throw new IcnnError(message);
}
