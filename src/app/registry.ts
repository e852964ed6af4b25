import { ensureError } from '../errors.js';
import { loadSettings, type Settings } from '../settings/settings.js';

/** What composing a capability gives: its value, and how to release what it holds (connections, timers). */
export interface Composed<T> {
  readonly value: T;
  readonly close?: () => void | Promise<void>;
}

/** What a composition may ask for: the settings, and other capabilities it builds on. */
export interface CompositionContext {
  settings(): Settings;
  use<T>(compose: Compose<T>): Promise<T>;
}

/**
 * A capability's small wiring function (`composeIntake`, `composeDispatch`...). The function itself is
 * the capability's identity: the registry builds each one once per process.
 */
export type Compose<T> = (context: CompositionContext) => Promise<Composed<T>>;

/**
 * The process-wide registry of composed capabilities. Functions are registered at import time, before
 * anything is configured, so their handlers ask it for their dependencies at each invocation; each
 * capability is composed at its first use and then shared by every function of the worker.
 */
export class Registry implements CompositionContext {
  private loaded: Settings | undefined;
  private readonly provided = new Map<Compose<unknown>, () => unknown>();
  private generation = newGeneration();

  constructor(private readonly load: () => Settings = () => loadSettings()) {}

  /** The app settings, read and validated at the first call (an invalid set is read again next time). */
  settings(): Settings {
    this.loaded ??= this.load();
    return this.loaded;
  }

  /**
   * The capability `compose` builds, composed at the first call and shared afterwards. A composition
   * that fails is forgotten, so the next call tries again instead of the worker failing for its life.
   */
  use<T>(compose: Compose<T>): Promise<T> {
    return this.useIn(this.generation, compose);
  }

  /**
   * Replaces a capability with a value the caller builds (tests, a host that brings its own ports).
   * Called once at the first use, like a composition; nothing of it is closed at dispose.
   */
  provide<T>(compose: Compose<T>, value: () => T | Promise<T>): void {
    this.provided.set(compose, value);
    this.generation.compositions.delete(compose);
  }

  /**
   * Closes every composition, dependents first (local host shutdown, tests), including those still
   * being composed, and forgets the settings: the next use starts afresh. Every close is attempted;
   * failures are reported together afterwards.
   */
  async dispose(): Promise<void> {
    const ending = this.generation;
    this.generation = newGeneration();
    this.provided.clear();
    this.loaded = undefined;
    // A composition still in progress may yet ask for the capabilities it builds on: wait for those too.
    while (ending.inFlight.size > 0) await Promise.allSettled([...ending.inFlight]);
    const failures: Error[] = [];
    for (const composed of [...ending.completed].reverse()) {
      try {
        await composed.close?.();
      } catch (error) {
        failures.push(ensureError(error));
      }
    }
    const [only] = failures;
    if (failures.length === 1 && only !== undefined) throw only;
    if (failures.length > 1) throw new AggregateError(failures, `${failures.length} capabilities failed to close`);
  }

  private useIn<T>(generation: Generation, compose: Compose<T>): Promise<T> {
    let composition = generation.compositions.get(compose) as Promise<Composed<T>> | undefined;
    if (composition === undefined) {
      const attempt = this.compose(generation, compose);
      generation.compositions.set(compose, attempt);
      generation.inFlight.add(attempt);
      attempt.then(
        (composed) => {
          generation.inFlight.delete(attempt);
          generation.completed.push(composed);
        },
        () => {
          generation.inFlight.delete(attempt);
          if (generation.compositions.get(compose) === attempt) generation.compositions.delete(compose);
        },
      );
      composition = attempt;
    }
    return composition.then((composed) => composed.value);
  }

  private async compose<T>(generation: Generation, compose: Compose<T>): Promise<Composed<T>> {
    const provided = this.provided.get(compose) as (() => T | Promise<T>) | undefined;
    if (provided !== undefined) return { value: await provided() };
    // Bound to its generation, so a composition disposed halfway builds on, and is closed with, its own.
    return compose({ settings: () => this.settings(), use: (dependency) => this.useIn(generation, dependency) });
  }
}

/**
 * The compositions made between two disposes. Completion order is dependency order: a composition
 * completes only after the capabilities it uses.
 */
interface Generation {
  readonly compositions: Map<Compose<unknown>, Promise<Composed<unknown>>>;
  readonly completed: Composed<unknown>[];
  readonly inFlight: Set<Promise<Composed<unknown>>>;
}

function newGeneration(): Generation {
  return { compositions: new Map(), completed: [], inFlight: new Set() };
}

/** The one registry of this worker process. */
export const appRegistry = new Registry();

/** Closes what the app holds (connections, timers) and forgets its settings: local host shutdown, tests. */
export function disposeApp(): Promise<void> {
  return appRegistry.dispose();
}
