/*
 * panic.js - the panic button of every page of `defter ui`: hold it (mouse, touch, or Space /
 * Enter held down) for HOLD_MS and the vault's keys are wiped, as `defter panic` does (POST
 * /api/panic). A shorter press does nothing but say how to use it. Works while the page is
 * locked. Carries its own words in the five languages, so the catalogues stay as they are.
 */

export const HOLD_MS = 3000;

const WORDS = {
  en: {
    button: 'Panic wipe',
    hint: 'Hold for 3 seconds to wipe the keys of this vault. There is no undo.',
    short: 'Not wiped: hold the button for 3 seconds.',
    working: 'Wiping…',
    done: 'Wiped. This vault can no longer be opened, with any passphrase. The program has stopped; you can close this page.',
    failed: 'The wipe failed: {msg}. Run `defter panic` in a terminal.',
  },
  uk: {
    button: 'Екстрене знищення',
    hint: 'Утримуйте 3 секунди, щоб знищити ключі цього сховища. Скасувати не можна.',
    short: 'Не знищено: утримуйте кнопку 3 секунди.',
    working: 'Знищення…',
    done: 'Знищено. Це сховище більше не відкриється жодним паролем. Програма зупинилася; сторінку можна закрити.',
    failed: 'Знищити не вдалося: {msg}. Виконайте `defter panic` у терміналі.',
  },
  ru: {
    button: 'Экстренное уничтожение',
    hint: 'Удерживайте 3 секунды, чтобы уничтожить ключи этого хранилища. Отменить нельзя.',
    short: 'Не уничтожено: удерживайте кнопку 3 секунды.',
    working: 'Уничтожение…',
    done: 'Уничтожено. Это хранилище больше не откроется никаким паролем. Программа остановлена; страницу можно закрыть.',
    failed: 'Уничтожить не удалось: {msg}. Выполните `defter panic` в терминале.',
  },
  tr: {
    button: 'Acil silme',
    hint: 'Bu kasanın anahtarlarını silmek için 3 saniye basılı tutun. Geri alınamaz.',
    short: 'Silinmedi: düğmeyi 3 saniye basılı tutun.',
    working: 'Siliniyor…',
    done: 'Silindi. Bu kasa artık hiçbir parolayla açılamaz. Program durdu; bu sayfayı kapatabilirsiniz.',
    failed: 'Silme başarısız oldu: {msg}. Bir terminalde `defter panic` çalıştırın.',
  },
  /* Crimean Tatar (Latin), in the words of web/i18n/crh.json; wants a native speaker's review */
  crh: {
    button: 'Acele silüv',
    hint: 'Bu saqlavnıñ anahtarlarını silmek içün 3 saniye basıp tutıñız. Keri qaytarıp olmaz.',
    short: 'Silinmedi: 3 saniye basıp tutıñız.',
    working: 'Silinmekte…',
    done: 'Silindi. Bu saqlav endi iç bir parol ibaresinen açılmaz. Programma toqtadı; bu saifeni qapatıp olasıñız.',
    failed: 'Silinmedi: {msg}. Terminalde `defter panic` komandasını işletiñiz.',
  },
};

function say(code, key, msg) {
  const w = WORDS[code] || WORDS.en;
  return (w[key] || WORDS.en[key]).split('{msg}').join(String(msg ?? ''));
}

function addStyle() {
  if (document.getElementById('panic-css')) return;
  const link = document.createElement('link');
  link.id = 'panic-css';
  link.rel = 'stylesheet';
  link.href = '/css/panic.css';
  document.head.append(link);
}

/*
 * The button. post(path) makes the CSRF-carrying request and resolves to the answer; code is
 * the page's language.
 */
export function panicButton(post, code) {
  addStyle();
  const btn = document.createElement('button');
  btn.type = 'button';
  btn.id = 'panic';
  btn.className = 'panic';
  btn.title = say(code, 'hint');
  btn.setAttribute('aria-label', say(code, 'button') + '. ' + say(code, 'hint'));
  const label = document.createElement('span');
  label.textContent = say(code, 'button');
  const fill = document.createElement('span');
  fill.className = 'panic-fill';
  fill.setAttribute('aria-hidden', 'true');
  btn.append(fill, label);
  const status = document.createElement('span');
  status.id = 'panic-status';
  status.className = 'panic-status';
  status.setAttribute('role', 'status');
  const wrap = document.createElement('span');
  wrap.className = 'panic-wrap';
  wrap.append(btn, status);

  let timer = null;
  let fired = false;
  const start = (ev) => {
    if (fired || timer !== null) return;
    if (ev.type === 'keydown' && (ev.repeat || (ev.key !== ' ' && ev.key !== 'Enter'))) return;
    ev.preventDefault();
    status.textContent = '';
    btn.classList.add('holding');
    timer = setTimeout(fire, HOLD_MS);
  };
  const cancel = (ev) => {
    if (timer === null) return;
    if (ev && ev.type === 'keyup' && ev.key !== ' ' && ev.key !== 'Enter') return;
    clearTimeout(timer);
    timer = null;
    btn.classList.remove('holding');
    status.textContent = say(code, 'short');
  };
  async function fire() {
    timer = null;
    fired = true;
    btn.classList.remove('holding');
    btn.disabled = true;
    status.textContent = say(code, 'working');
    try {
      await post('panic');
    } catch (e) {
      fired = false;
      btn.disabled = false;
      status.textContent = say(code, 'failed', e.message);
      return;
    }
    const done = document.createElement('p');
    done.id = 'wiped';
    done.className = 'card wiped';
    done.setAttribute('role', 'alert');
    done.textContent = say(code, 'done');
    const main = document.getElementById('main');
    if (main) main.replaceChildren(done);
    const top = document.getElementById('top');
    if (top) top.replaceChildren();
  }
  btn.addEventListener('pointerdown', start);
  btn.addEventListener('pointerup', cancel);
  btn.addEventListener('pointerleave', cancel);
  btn.addEventListener('pointercancel', cancel);
  btn.addEventListener('keydown', start);
  btn.addEventListener('keyup', cancel);
  btn.addEventListener('blur', () => cancel());
  btn.addEventListener('click', (ev) => ev.preventDefault()); /* a click alone never wipes */
  btn.addEventListener('contextmenu', (ev) => ev.preventDefault());
  return wrap;
}
