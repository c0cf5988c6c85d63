/**
 * The base of Tonearm's error classes. `instanceof` holds across realms (worker threads, vm
 * contexts) and across copies of a package: an error carries a symbol registered under the name of
 * its class and of each class it extends, and `instanceof` checks that symbol, not the prototype
 * chain. Class names are therefore unique across the project.
 */
export class TonearmError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    for (let cls: unknown = new.target; typeof cls === "function" && cls !== Error; cls = Object.getPrototypeOf(cls)) {
      Object.defineProperty(this, brand((cls as { name: string }).name), { value: true });
    }
  }

  static override [Symbol.hasInstance](this: { readonly name: string }, value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[brand(this.name)] === true;
  }
}

const brand = (className: string): symbol => Symbol.for(`tonearm.${className}`);
