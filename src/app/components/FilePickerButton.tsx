import { useRef, type ReactNode } from 'react';

interface FilePickerButtonProps {
  /** The button's text. */
  children: ReactNode;
  className: string;
  disabled: boolean;
  /** The picked files (never called with none); the input is cleared, so the same pick fires again. */
  onFiles: (files: File[]) => void;
  /** The hidden input's label and attributes. */
  inputLabel: string;
  accept?: string;
  multiple?: boolean;
  /** Pick a folder (webkitdirectory) instead of files. */
  directory?: boolean;
  inputId?: string;
  buttonTestId?: string;
  inputTestId?: string;
}

/**
 * A button that opens a hidden file input. The input is no tab stop of its own: the
 * button is the control the keyboard reaches (tests may still set files on the input).
 */
export function FilePickerButton({ children, className, disabled, onFiles, inputLabel, accept, multiple, directory, inputId, buttonTestId, inputTestId }: FilePickerButtonProps) {
  const input = useRef<HTMLInputElement>(null);
  // webkitdirectory is not in React's input types: passed as an extra attribute.
  const folder = directory ? ({ webkitdirectory: '' } as Record<string, string>) : {};
  return (
    <>
      <button type="button" className={className} onClick={() => input.current?.click()} disabled={disabled} data-testid={buttonTestId}>
        {children}
      </button>
      <input
        ref={input}
        id={inputId}
        className="visually-hidden"
        type="file"
        accept={accept}
        multiple={multiple}
        data-testid={inputTestId}
        aria-label={inputLabel}
        tabIndex={-1}
        disabled={disabled}
        {...folder}
        onChange={(e) => {
          const files = Array.from(e.target.files ?? []);
          e.target.value = '';
          if (files.length) onFiles(files);
        }}
      />
    </>
  );
}
