// The identity database read and changed behind the store's back (durable-identity-store.ts), for
// the store's tests on fake-indexeddb and on Chromium: each call opens a connection of its own and
// closes it, so the store's own connection is never the one used.
import { identityDatabaseName } from './durable-identity-store.ts';

function withDatabase<T>(body: (database: IDBDatabase) => Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const opening = indexedDB.open(identityDatabaseName);
    opening.onerror = () => reject(opening.error ?? new Error('the open failed'));
    opening.onsuccess = () => {
      const database = opening.result;
      body(database).then(
        (value) => {
          database.close();
          resolve(value);
        },
        (error: unknown) => {
          database.close();
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    };
  });
}

/** One change in a transaction of its own, resolved once it completes. */
function change(edit: (store: IDBObjectStore) => void): Promise<void> {
  return withDatabase(
    (database) =>
      new Promise((resolve, reject) => {
        const transaction = database.transaction('values', 'readwrite');
        edit(transaction.objectStore('values'));
        transaction.oncomplete = () => resolve();
        transaction.onerror = () => reject(transaction.error ?? new Error('the change failed'));
      }),
  );
}

/** What the identity database holds under `key`. */
export function storedValue(key: string): Promise<unknown> {
  return withDatabase(
    (database) =>
      new Promise((resolve, reject) => {
        const request = database.transaction('values', 'readonly').objectStore('values').get(key);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error ?? new Error('the read failed'));
      }),
  );
}

/** Puts `value` under `key`. */
export function putValue(key: string, value: string): Promise<void> {
  return change((store) => store.put(value, key));
}

/** Deletes `key`, as the browser's loss of the site's databases would. */
export function deleteValue(key: string): Promise<void> {
  return change((store) => store.delete(key));
}
